import { Worker } from '../../src/index.js';

export class LimitUser extends Worker {
  static module = import.meta.url;
  /** Acquires and releases `n` times; with maxConcurrency 1 each waits for the caller's reply. */
  async loop(n: number): Promise<number> {
    for (let i = 0; i < n; i++) (await this.limits.acquire()).release();
    return n;
  }
}
