/** Limits inside workers: a shared rate limit and a semaphore across a pool of workers. */
import { Worker, CallLimit, ResourceLimit, gather, isMainModule } from '../src/index.js';

export class Fetcher extends Worker {
  static module = import.meta.url;

  async fetchOne(id: number): Promise<number> {
    await using _acq = await this.limits.acquire();          // call_count 1 and connections 1
    await new Promise((r) => setTimeout(r, 5));
    return id;
  }
}

if (isMainModule(import.meta.url)) {
  const pool = Fetcher.options({
    mode: 'async',
    maxWorkers: 4,
    maxConcurrency: 4,
    limits: [new CallLimit({ window: 1000, capacity: 20 }), new ResourceLimit({ key: 'connections', capacity: 2 })],
  }).init();
  const t0 = performance.now();
  const ids = await gather(Array.from({ length: 30 }, (_, i) => pool.fetchOne(i)));
  console.log(`${ids.length} calls at ≤ 20/s with ≤ 2 connections took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await pool.stop();
}
