/**
 * The worker class of the distributed fault soak (hosts are started with --module this file).
 * Every attempt writes its call id to a per-process log file before doing anything else, with a
 * synchronous append: the line is on disk before the method can be interrupted, so the soak counts
 * executions even across SIGKILLed hosts and a Redis that lost every key.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '../../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SoakWorker extends Worker {
  private attempts = new Map<number, number>();
  private readonly tag = Math.random().toString(36).slice(2, 8);

  constructor(readonly logDir: string) {
    super();
  }

  private record(id: number): number {
    appendFileSync(join(this.logDir, `exec-${process.pid}.log`), `${id} ${this.tag} ${Date.now()}\n`);
    const n = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, n);
    if (this.attempts.size > 10_000) this.attempts.clear();
    return n;
  }

  /** Not retried: `fail` makes it throw a 400 (a bad request is not retried). */
  async work(id: number, x: number, delayMs: number, fail: boolean): Promise<number> {
    this.record(id);
    if (delayMs > 0) await sleep(delayMs);
    if (fail) throw Object.assign(new Error(`bad request ${id}`), { status: 400 });
    return 2 * x;
  }

  /** Retried: throws a 503 until its attempt `okAt` on this instance. */
  async flaky(id: number, x: number, okAt: number): Promise<number> {
    const attempt = this.record(id);
    if (attempt < okAt) throw Object.assign(new Error(`unavailable ${id}`), { status: 503 });
    return 3 * x;
  }
}
