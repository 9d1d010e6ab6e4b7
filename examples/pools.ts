/** A pool of thread workers: calls spread over 3 instances, each with its own state. */
import { Worker, gather, isMainModule } from '../src/index.js';

export class Hasher extends Worker {
  static module = import.meta.url;
  private handled = 0;

  async digest(text: string): Promise<{ threadId: number; handled: number; hex: string }> {
    const { createHash } = await import('node:crypto');
    const { threadId } = await import('node:worker_threads');
    this.handled++;
    return { threadId, handled: this.handled, hex: createHash('sha256').update(text).digest('hex').slice(0, 12) };
  }
}

if (isMainModule(import.meta.url)) {
  const pool = Hasher.options({ mode: 'thread', maxWorkers: 3, loadBalancing: 'least-active' }).init();
  const results = await gather(Array.from({ length: 9 }, (_, i) => pool.digest(`item ${i}`)));
  console.log('threads used:', new Set(results.map((r) => r.threadId)).size);
  console.log('per-worker dispatched:', pool.stats().pool!.workers.map((w) => w.dispatched).join(', '));
  await pool.stop();
}
