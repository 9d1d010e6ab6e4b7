import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  CallLimit,
  ConfigError,
  FakeClock,
  LimitPool,
  LimitSet,
  LimitUsageError,
  RateLimit,
  ResourceLimit,
  TimeoutError,
  type RateAlgorithmName,
} from '../../src/index.js';
// The rate algorithms are internal (not exported by the package): tested through their module.
import { createAlgorithm } from '../../src/limits/algorithms.js';

const rate = (algorithm: RateAlgorithmName, capacity = 10, window = 1000) => new RateLimit({ key: 'r', window, capacity, algorithm });

/** Admits unit requests greedily at the given times; returns admission times. */
function admitAt(name: RateAlgorithmName, capacity: number, window: number, times: number[], amount = 1): number[] {
  const alg = createAlgorithm(name, capacity, window, 0);
  const admitted: number[] = [];
  for (const t of times) {
    if (alg.waitFor(t, amount) === 0) {
      alg.take(t, amount);
      for (let i = 0; i < amount; i++) admitted.push(t);
    }
  }
  return admitted;
}

function maxInAnyWindow(times: number[], window: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= window) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('algorithms', () => {
  it('token bucket: starts full, refills continuously, refunds', () => {
    const tb = createAlgorithm('token-bucket', 10, 1000, 0);
    expect(tb.waitFor(0, 10)).toBe(0);
    tb.take(0, 10);
    expect(tb.waitFor(0, 1)).toBe(100);
    expect(tb.waitFor(250, 2)).toBe(0);
    expect(tb.available(250)).toBe(2);
    tb.refund(250, 5);
    expect(tb.available(250)).toBe(7);
  });

  it('leaky bucket keeps fractional progress (7 per 1000 ms never stalls)', () => {
    const lb = createAlgorithm('leaky-bucket', 7, 1000, 0);
    lb.take(0, 7);
    // 1000/7 ≈ 142.86 ms per unit: after 143 ms one unit fits, and the remainder is not lost.
    expect(lb.waitFor(142, 1)).toBe(1);
    expect(lb.waitFor(143, 1)).toBe(0);
    let t = 0;
    let admitted = 0;
    for (t = 0; t <= 10_000; t++) if (lb.waitFor(t, 1) === 0) (lb.take(t, 1), admitted++);
    expect(admitted).toBe(70); // exactly the rate over 10 s
  });

  it('sliding window is strict and frees capacity as entries age out', () => {
    const sw = createAlgorithm('sliding-window', 3, 1000, 0);
    sw.take(0, 1);
    sw.take(400, 2);
    expect(sw.waitFor(500, 1)).toBe(500);
    expect(sw.waitFor(1000, 1)).toBe(0);
    expect(sw.waitFor(1000, 3)).toBe(400);
  });

  it('fixed window resets at window edges', () => {
    const fw = createAlgorithm('fixed-window', 2, 1000, 0);
    fw.take(0, 2);
    expect(fw.waitFor(999, 1)).toBe(1);
    expect(fw.waitFor(1000, 2)).toBe(0);
  });

  it('gcra: burst of capacity, then one per emission interval; refunds move TAT back', () => {
    const g = createAlgorithm('gcra', 4, 1000, 0);
    for (let i = 0; i < 4; i++) {
      expect(g.waitFor(0, 1)).toBe(0);
      g.take(0, 1);
    }
    expect(g.waitFor(0, 1)).toBe(250);
    g.refund(0, 2);
    expect(g.waitFor(0, 2)).toBe(0);
  });

  it('property: sliding window never admits more than capacity in any window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 200 }),
        (capacity, window, gaps) => {
          let t = 0;
          const times = gaps.map((g) => (t += g));
          const admitted = admitAt('sliding-window', capacity, window, times);
          return maxInAnyWindow(admitted, window) <= capacity;
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('property: burst algorithms admit at most 2× capacity in any window; fixed window too', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<RateAlgorithmName>('token-bucket', 'leaky-bucket', 'gcra', 'fixed-window'),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 200 }),
        (name, capacity, window, gaps) => {
          let t = 0;
          const times = gaps.map((g) => (t += g));
          return maxInAnyWindow(admitAt(name, capacity, window, times), window) <= 2 * capacity;
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('LimitSet', () => {
  it('is all-or-nothing and holds nothing while waiting', async () => {
    const clock = new FakeClock();
    const set = new LimitSet([new ResourceLimit({ key: 'conn', capacity: 1 }), rate('sliding-window', 10)], { clock });
    const a = await set.acquire({ r: 5 });
    const waiting = set.acquire({ r: 5 });
    await clock.advance(0);
    // conn is held by `a`, so the waiter holds no rate units either
    expect((set.stats().r as any).available).toBe(5);
    a.update({ r: 5 });
    a.release();
    const b = await waiting;
    expect(b.amounts.get('conn')).toBe(1);
    b.update({ r: 5 }).release();
  });

  it('serves waiters first come, first served: a big request is not starved by small ones', async () => {
    const clock = new FakeClock();
    const set = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 4 })], { clock });
    const first = await set.acquire({ slots: 3 });
    const order: string[] = [];
    const big = set.acquire({ slots: 4 }).then((a) => (order.push('big'), a));
    const small = set.acquire({ slots: 1 }).then((a) => (order.push('small'), a));
    await clock.advance(0);
    expect(order).toEqual([]); // one slot is free, but the big request is ahead of the small one
    first.release();
    (await big).release();
    (await small).release();
    expect(order).toEqual(['big', 'small']);
  });

  it('waits on a timer set for the exact moment capacity frees', async () => {
    const clock = new FakeClock();
    const set = new LimitSet([new CallLimit({ window: 1000, capacity: 2 })], { clock });
    await set.acquire();
    await set.acquire();
    let got = false;
    const third = set.acquire().then(() => (got = true));
    await clock.advance(999);
    expect(got).toBe(false);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1);
    await third;
    expect(got).toBe(true);
  });

  it('times out with TimeoutError and aborts with AbortError, leaving nothing behind', async () => {
    const clock = new FakeClock();
    const set = new LimitSet([new ResourceLimit({ key: 'conn', capacity: 1 })], { clock });
    const held = await set.acquire();
    const timedOut = set.acquire({}, { timeout: 50 }).catch((e) => e);
    await clock.advance(50);
    expect(await timedOut).toBeInstanceOf(TimeoutError);
    const controller = new AbortController();
    const aborted = set.acquire({}, { signal: controller.signal }).catch((e) => e);
    controller.abort();
    expect(await aborted).toBeInstanceOf(AbortError);
    expect(set.stats().waiting).toBe(0);
    held.release();
    expect((set.stats().conn as any).available).toBe(1);
  });

  it('fails at once for a request above capacity; validates amounts', async () => {
    const set = new LimitSet([rate('token-bucket', 10)]);
    await expect(set.acquire({ r: 11 })).rejects.toThrow(/requested 11 of 'r' but its capacity is 10/);
    await expect(set.acquire({ r: -1 })).rejects.toThrow(ConfigError);
  });

  it('takes unnamed Call/Resource limits with 1, not unnamed RateLimits; warns once about unknown keys', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const set = new LimitSet([rate('sliding-window', 10), new CallLimit({ window: 1000, capacity: 5 }), new ResourceLimit({ key: 'c', capacity: 2 })]);
      const a = await set.acquire({ tokenz: 3 });
      const b = await set.acquire({ tokenz: 3 });
      expect(a.requested).toEqual({ call_count: 1, c: 1 });
      a.release();
      b.release();
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.includes("'tokenz'"))).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a missing update raises LimitUsageError after everything was released; force skips it', async () => {
    const set = new LimitSet([rate('token-bucket', 10), new ResourceLimit({ key: 'c', capacity: 1 })]);
    const a = await set.acquire({ r: 4 });
    expect(() => a.release()).toThrow(LimitUsageError);
    expect((set.stats().c as any).available).toBe(1);
    const b = await set.acquire({ r: 4 });
    expect(() => b.release({ force: true })).not.toThrow();
    expect(b.released).toBe(true);
  });

  it('refunds the unused part for token-bucket and gcra', async () => {
    for (const algorithm of ['token-bucket', 'gcra'] as const) {
      const set = new LimitSet([rate(algorithm, 100)], { clock: new FakeClock() });
      const a = await set.acquire({ r: 80 });
      a.update({ r: 30 }).release();
      expect((set.stats().r as any).available).toBe(70);
    }
  });

  it('after everything is released, availability equals capacity (resources)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 30 }), async (amounts) => {
        const set = new LimitSet([new ResourceLimit({ key: 'c', capacity: 5 })]);
        const acqs = await Promise.all(amounts.map((n) => set.acquire({ c: n }).then((a) => (queueMicrotask(() => a.release()), a))));
        await new Promise((r) => setImmediate(r));
        expect(acqs.every((a) => a.released)).toBe(true);
        expect((set.stats().c as any).available).toBe(5);
      }),
      { numRuns: 200 },
    );
  });

  it('gives acquisitions a copy of the config; run() releases on throw; using disposes', async () => {
    const set = new LimitSet([new ResourceLimit({ key: 'c', capacity: 1 })], { config: { region: 'eu' } });
    const a = await set.acquire();
    a.config.region = 'us';
    a.release();
    expect(set.config).toEqual({ region: 'eu' });
    await expect(set.run(undefined, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    {
      using b = set.tryAcquire()!;
      expect(b.released).toBe(false);
    }
    expect((set.stats().c as any).available).toBe(1);
  });

  it('rejects bad limits and duplicate keys', () => {
    expect(() => new RateLimit({ key: 'r', window: 0, capacity: 1 })).toThrow(/'RateLimit.window': got 0/);
    expect(() => new RateLimit({ key: 'r', window: 'week' as any, capacity: 1 })).toThrow(ConfigError);
    expect(() => new RateLimit({ key: 'r', window: 1000, capacity: 1.5 })).toThrow(/'RateLimit.capacity': got 1.5; expected an integer > 0/);
    expect(() => new RateLimit({ key: 'r', window: 1000, capacity: 1, algorithm: 'bucket' as any })).toThrow(/one of 'token-bucket'/);
    expect(() => new ResourceLimit({ key: '', capacity: 1 })).toThrow(/key/);
    expect(() => new CallLimit({ window: 'minute', capacity: NaN })).toThrow(ConfigError);
    expect(() => new LimitSet([rate('gcra'), rate('gcra')])).toThrow(/duplicate limit key 'r'/);
    expect(new RateLimit({ key: 'r', window: 'minute', capacity: 1 }).window).toBe(60_000);
  });
});

describe('LimitPool', () => {
  it('round-robins from the worker index; acq.config tells the set', async () => {
    const sets = ['a', 'b', 'c'].map((account) => new LimitSet([new ResourceLimit({ key: 'c', capacity: 10 })], { config: { account } }));
    const pool = new LimitPool(sets).forWorker(1);
    const picked: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const acq = await pool.acquire();
      picked.push(acq.config.account);
      acq.release();
    }
    expect(picked).toEqual(['b', 'c', 'a', 'b']);
    expect(() => new LimitPool([])).toThrow(ConfigError);
  });
});
