/** `Future.cancel()` and `cancelled`: what a caller sees, including while the cancel runs. */
import { describe, expect, it } from 'vitest';
import { CancelledError, Future, Worker } from '../../src/index.js';

class Sleeper extends Worker {
  async sleep(ms: number): Promise<number> {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  }
}

describe('Future.cancel()', () => {
  it('rejects a pending future with CancelledError, once', async () => {
    const f = new Future<number>();
    expect(f.cancelled).toBe(false);
    expect(f.cancel()).toBe(true);
    expect(f.done).toBe(true);
    expect(f.cancelled).toBe(true);
    expect(f.cancel()).toBe(false);
    await expect(f.result()).rejects.toThrow(new CancelledError('Call was cancelled'));
  });

  it('is refused by a future already done, which keeps its outcome', async () => {
    const ok = Future.resolved(3);
    expect(ok.cancel()).toBe(false);
    expect(ok.cancelled).toBe(false);
    expect(await ok).toBe(3);
    const failed = Future.rejected<number>(new RangeError('no'));
    expect(failed.cancel()).toBe(false);
    expect(failed.cancelled).toBe(false);
    await expect(failed.result()).rejects.toBeInstanceOf(RangeError);
  });

  it('reads as cancelled in the callbacks it settles', () => {
    const f = new Future<number>();
    const seen: unknown[] = [];
    f.subscribe(
      () => seen.push('value'),
      (e) => seen.push(e instanceof CancelledError, f.cancelled, f.done),
    );
    f.cancel();
    expect(seen).toEqual([true, true, true]);
  });

  it('a call dropped from a worker queue reads as cancelled, and the worker goes on', async () => {
    await using w = Sleeper.options({ mode: 'async', maxConcurrency: 1 }).init();
    const running = w.sleep(30);
    const queued = w.sleep(1);
    expect(queued.cancel()).toBe(true);
    expect(queued.cancelled).toBe(true);
    await expect(queued.result()).rejects.toBeInstanceOf(CancelledError);
    expect(await running).toBe(30);
    expect(running.cancelled).toBe(false);
    expect(await w.sleep(2)).toBe(2);
  });
});

describe('Future.cancel() against whoever runs the call', () => {
  /** A future whose runner reacts to the cancel synchronously, as a transport may. */
  class Runner<T> extends Future<T> {
    constructor(private readonly onCancelDo: (self: Runner<T>) => void) {
      super();
    }
    protected override onCancel(): void {
      this.onCancelDo(this);
    }
  }

  it('a runner that rejects the call as it drops it leaves it cancelled with that error', async () => {
    const f = new Runner<number>((self) => self.reject(new CancelledError('dropped from the queue')));
    expect(f.cancel()).toBe(true);
    expect(f.cancelled).toBe(true);
    await expect(f.result()).rejects.toThrow('dropped from the queue');
  });

  it('a call that completes while it is being cancelled keeps its value and is not cancelled', async () => {
    const f = new Runner<number>((self) => self.resolve(7));
    expect(f.cancel()).toBe(false);
    expect(f.cancelled).toBe(false);
    expect(f.done).toBe(true);
    expect(await f).toBe(7);
  });

  it('a runner that throws leaves the future pending, and a later cancel still works', async () => {
    let fail = true;
    const f = new Runner<number>(() => {
      if (fail) throw new Error('runner busy');
    });
    expect(() => f.cancel()).toThrow('runner busy');
    expect(f.done).toBe(false);
    expect(f.cancelled).toBe(false);
    fail = false;
    expect(f.cancel()).toBe(true);
    await expect(f.result()).rejects.toBeInstanceOf(CancelledError);
  });
});
