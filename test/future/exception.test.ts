/** `Future.exception()` as Python users expect it (issue 18, item 8). */
import { describe, expect, it } from 'vitest';
import { CancelledError, Future, Worker } from '../../src/index.js';

class Slow extends Worker {
  async wait(ms: number): Promise<number> {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  }
  fail(): never {
    throw new RangeError('bad');
  }
}

describe('exception()', () => {
  it('rejects with CancelledError on a cancelled future, as Python raises it', async () => {
    const w = Slow.options({ mode: 'async' }).init();
    try {
      const running = w.wait(50);
      const queued = w.wait(1);
      expect(queued.cancel()).toBe(true);
      await expect(queued.exception()).rejects.toBeInstanceOf(CancelledError);
      await expect(queued.exception({ timeout: 10 })).rejects.toThrow('Call was cancelled');
      expect(await running.exception()).toBeUndefined();
    } finally {
      await w.stop();
    }
  });

  it('resolves with the error of a failed call, and undefined after success', async () => {
    const w = Slow.options({ mode: 'sync' }).init();
    expect(await w.fail().exception()).toBeInstanceOf(RangeError);
    expect(await w.wait(0).exception()).toBeUndefined();
    await w.stop();
  });

  it('a plain future that is cancelled rejects too', async () => {
    const f = new Future<number>();
    f.cancel();
    await expect(f.exception()).rejects.toBeInstanceOf(CancelledError);
  });
});
