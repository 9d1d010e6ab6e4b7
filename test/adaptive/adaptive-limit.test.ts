import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AdaptiveLimit, ConfigError, FakeClock, LimitPool, TimeoutError, adaptiveUsage, type AdaptiveChange, type Clock } from '../../src/index.js';
import { AdaptiveCaller } from '../fixtures/adaptive-workers.js';
import { SimProvider, simulate } from './sim.js';

const make = (clock: FakeClock, extra: Partial<ConstructorParameters<typeof AdaptiveLimit>[0]> = {}) =>
  new AdaptiveLimit({ key: 'requests', window: 1000, initial: 10, ceiling: 1000, clock, ...extra });

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** `fake`'s time, with every timer firing at `delay(ms)` instead of `ms`. */
const lateClock = (fake: FakeClock, delay: (ms: number) => number): Clock => ({
  now: () => fake.now(),
  setTimeout: (fn, ms) => fake.setTimeout(fn, delay(ms)),
  clearTimeout: (h) => fake.clearTimeout(h),
});

/** Grants taken in 10 s of `fake` by 16 callers that acquire, report success and release in a loop. */
async function grantedIn10s(fake: FakeClock, limit: AdaptiveLimit): Promise<number> {
  let stop = false;
  let granted = 0;
  const loops = Array.from({ length: 16 }, async () => {
    while (!stop) {
      const acq = await limit.acquire();
      granted++;
      acq.update({ requests: 1 }).release();
    }
  });
  await fake.advance(10_000);
  stop = true;
  await fake.runAll();
  await Promise.all(loops);
  return granted;
}

/** 60 s of 16 callers against a provider of `limit` per `window` ms that halves it from 20 s to 40 s; the value every 100 ms. */
async function halvedFrom20sTo40s(limit: number, window: number) {
  const clock = new FakeClock();
  const provider = new SimProvider(limit, window);
  return simulate(clock, make(clock), provider, {
    durationMs: 60_000,
    onTick: (t) => (provider.limit = t >= 20_000 && t < 40_000 ? limit / 2 : limit),
  });
}

describe('AdaptiveLimit against a sliding-window provider (fake clock)', () => {
  it('converges from a guess 10× too low onto the provider limit, with few refusals', async () => {
    const clock = new FakeClock();
    const limit = make(clock);
    const provider = new SimProvider(100, 1000);
    const samples = await simulate(clock, limit, provider, { durationMs: 30_000 });
    const late = samples.filter((s) => s.t >= 10_000).map((s) => s.value);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...late)).toBeLessThanOrEqual(115);
    expect(mean(late)).toBeGreaterThan(88);
    // ~2 800 accepted in 30 s of a 100/s limit, and refusals a small share of requests.
    expect(provider.accepted).toBeGreaterThan(2500);
    expect(provider.refused / (provider.accepted + provider.refused)).toBeLessThan(0.02);
  });

  it('follows a halved limit down within a few seconds, and back up when it is restored', async () => {
    const samples = await halvedFrom20sTo40s(100, 1000);
    const at = (from: number, to: number) => samples.filter((s) => s.t >= from && s.t < to).map((s) => s.value);
    expect(Math.max(...at(24_000, 40_000))).toBeLessThanOrEqual(60); // down within 4 s, and stays there (a probe overshoots by a fifth at most)
    expect(mean(at(24_000, 40_000))).toBeGreaterThan(42);
    expect(Math.min(...at(45_000, 60_000))).toBeGreaterThanOrEqual(80); // back up within 5 s
  });

  it('against a provider with a 3 s window (llm-batch), follows a halving at once: the Retry-After counts in the measured rate', async () => {
    // A sliding window this long answers a halving with one refusal and a long Retry-After, then
    // accepts again for seconds; measuring the last window alone kept the value 1.8× too high for 20 s.
    const samples = await halvedFrom20sTo40s(300, 3000);
    const firstAt = (from: number, ok: (value: number) => boolean) => (samples.find((s) => s.t >= from && ok(s.value))?.t ?? Infinity) - from;
    expect(firstAt(20_000, (v) => v <= 57)).toBeLessThanOrEqual(1000);
    expect(firstAt(40_000, (v) => v >= 85)).toBeLessThanOrEqual(5000);
  });

  it('slow start: with callers queued, a guess 20× too low reaches the provider limit within 2 s', async () => {
    // llm-batch's provider: 1200 requests per sliding 3 s window (400/s), 64 callers.
    const clock = new FakeClock();
    const limit = make(clock, { initial: 20, ceiling: 100_000 });
    const provider = new SimProvider(1200, 3000);
    const samples = await simulate(clock, limit, provider, { durationMs: 12_000, clients: 64 });
    const reached = samples.find((s) => s.value >= 400);
    expect(reached?.t).toBeLessThanOrEqual(2000);
    // The overshoot is paid for in 429s, but few: well under the 3% target.
    expect(provider.refused / (provider.accepted + provider.refused)).toBeLessThan(0.03);
    expect(provider.accepted).toBeGreaterThan(3000); // 12 s at 400/s is 4 800 at most (+ the first window's burst)
  });

  it('a client too slow to use its grants (callers queued, timers firing late) does not inflate the value', async () => {
    const fake = new FakeClock();
    // A starved machine: every timer fires 4× late, so grants go out at a quarter of the value.
    const late = lateClock(fake, (ms) => ms * 4);
    const limit = make(fake, { initial: 100, clock: late });
    const granted = await grantedIn10s(fake, limit);
    expect(granted).toBeLessThan(400); // about 25/s, for 10 s
    expect(limit.value).toBe(100);
  });

  it('grants its value per window even when every timer fires a little late (real timers run on whole ms)', async () => {
    const fake = new FakeClock();
    // Each wake-up 1.5 ms after it was asked for: spacing each grant from its own (late) time
    // granted 400/s at 250/s here, and 305/s with real timers.
    const late = lateClock(fake, (ms) => ms + 1.5);
    const limit = make(fake, { initial: 400, floor: 400, ceiling: 400, clock: late });
    const granted = await grantedIn10s(fake, limit);
    // 400/s for 10 s, plus the callers still queued when the loops stop (granted on, at 400/s).
    expect(granted).toBeGreaterThanOrEqual(3990);
    expect(granted).toBeLessThanOrEqual(4000 + 16 + 1);
  });

  it('does not make up for a pause (Retry-After) with a burst when it ends', async () => {
    const clock = new FakeClock();
    const limit = make(clock, { initial: 100, floor: 100, ceiling: 100 });
    (await limit.acquire()).update({ requests: 0, retryAfterMs: 5 }).release(); // pauses grants for 5 ms
    const times: number[] = [];
    const all = Array.from({ length: 3 }, () => limit.acquire().then((a) => (times.push(clock.now()), a.release())));
    await clock.runAll();
    await Promise.all(all);
    // The slot due at 10 ms falls after the pause: kept. Then one every 10 ms, no catch-up burst.
    expect(times).toEqual([10, 20, 30]);
  });

  it('a measured cut counts calls that failed without a signal (503s) as taken by the provider', async () => {
    const clock = new FakeClock();
    const limit = make(clock, { initial: 100, decrease: 0.9 });
    const acqs = [];
    for (let i = 0; i < 100; i++) {
      acqs.push(await limit.acquire());
      await clock.advance(10);
    }
    // 99 calls answered 503 (no signal to the limit), then one 429: the provider took 99 calls in the
    // last window, so the cut is the usual 10%, not to half of it as if it had accepted none.
    for (const acq of acqs.slice(0, 99)) acq.release();
    acqs[99]!.update({ requests: 0 }).release();
    expect(limit.value).toBe(90);
  });

  it('never leaves [floor, ceiling]: a provider refusing everything pins it to the floor, an unlimited one to the ceiling', async () => {
    const clock = new FakeClock();
    const low = make(clock, { floor: 5, initial: 50 });
    await simulate(clock, low, new SimProvider(0, 1000), { durationMs: 10_000 });
    expect(low.value).toBe(5);
    const high = make(clock, { ceiling: 200 });
    const samples = await simulate(clock, high, new SimProvider(1e9, 1000), { durationMs: 10_000 });
    expect(Math.max(...samples.map((s) => s.value))).toBe(200);
    expect(high.value).toBe(200);
  });

  it('property: whatever the outcomes and timing, the value stays within [floor, ceiling]', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<'rate' | 'concurrency'>('rate', 'concurrency'),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 400 }),
        fc.double({ min: 0.05, max: 0.99, noNaN: true }),
        fc.array(fc.record({ outcome: fc.constantFrom('ok', 'slow', '429', 'other'), dt: fc.integer({ min: 0, max: 300 }) }), { maxLength: 200 }),
        async (kind, floor, extra, decrease, ops) => {
          const clock = new FakeClock();
          const ceiling = floor + extra;
          const limit = new AdaptiveLimit({ key: 'r', kind, initial: floor + Math.floor(extra / 2), floor, ceiling, decrease, latencyTolerance: 2, clock });
          for (const op of ops) {
            await clock.advance(op.dt);
            const acq = limit.tryAcquire({ r: 1 });
            if (!acq) continue;
            if (op.outcome === 'slow') await clock.advance(5000);
            acq.update(op.outcome === 'ok' || op.outcome === 'slow' ? { r: 1 } : op.outcome === '429' ? { r: 0, retryAfterMs: 10 } : {});
            acq.release();
            if (!(limit.value >= floor && limit.value <= ceiling)) return false;
          }
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('AdaptiveLimit mechanics', () => {
  it('a rate spaces grants evenly: value per window', async () => {
    const clock = new FakeClock();
    const limit = make(clock, { initial: 4, ceiling: 4 });
    const times: number[] = [];
    const all = Array.from({ length: 8 }, () => limit.acquire().then((a) => (times.push(clock.now()), a.release())));
    await clock.runAll();
    await Promise.all(all);
    expect(times).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750]);
  });

  it('a concurrency never has more than its value in flight, and serves waiters FIFO on release', async () => {
    const clock = new FakeClock();
    const limit = new AdaptiveLimit({ key: 'slots', kind: 'concurrency', initial: 2, ceiling: 10, clock });
    const a = await limit.acquire();
    const b = await limit.acquire();
    expect(limit.tryAcquire()).toBeUndefined();
    const order: string[] = [];
    const c = limit.acquire().then((x) => (order.push('c'), x));
    const d = limit.acquire().then((x) => (order.push('d'), x));
    a.release();
    await clock.advance(0);
    expect(order).toEqual(['c']);
    b.release();
    await clock.advance(0);
    expect(order).toEqual(['c', 'd']);
    (await c).release();
    (await d).release();
    expect(limit.stats()).toMatchObject({ slots: { kind: 'adaptive-concurrency', held: 0, value: 2 }, waiting: 0 });
  });

  it('a refusal cuts by `decrease` once per epoch (outcomes of older grants cut nothing) and pauses for its Retry-After', async () => {
    const clock = new FakeClock();
    const limit = new AdaptiveLimit({ key: 'slots', kind: 'concurrency', initial: 20, ceiling: 100, decrease: 0.5, clock });
    const held = await Promise.all(Array.from({ length: 5 }, () => limit.acquire()));
    for (const acq of held) acq.update({ slots: 0, retryAfterMs: 300 }).release();
    expect(limit.value).toBe(10);
    expect(limit.stats()).toMatchObject({ slots: { decreases: 1, refused: 5, pausedForMs: 300 } });
    let granted = false;
    const next = limit.acquire().then((a) => ((granted = true), a));
    await clock.advance(299);
    expect(granted).toBe(false);
    await clock.advance(1);
    expect(granted).toBe(true);
    (await next).update({ slots: 0 }).release(); // granted after the cut: a new epoch, cuts again
    expect(limit.value).toBe(5);
  });

  it('fires a change event on each change of the granted value, and stats() shows it', async () => {
    const clock = new FakeClock();
    const limit = new AdaptiveLimit({ key: 'slots', kind: 'concurrency', initial: 2, ceiling: 5, clock });
    const changes: AdaptiveChange[] = [];
    const off = limit.on('change', (c) => changes.push(c));
    // Saturated successes grow it by two each in slow start (up to the ceiling).
    for (let i = 0; i < 2; i++) {
      const held = await Promise.all(Array.from({ length: limit.value }, () => limit.acquire()));
      for (const a of held) a.update({ slots: 1 }).release();
    }
    expect(limit.value).toBe(5);
    const held = await limit.acquire();
    held.update(adaptiveUsage('slots', Object.assign(new Error('slow down'), { status: 429 }))).release();
    expect(limit.value).toBe(4); // floor(5 × 0.9)
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([
      [2, 4, 'increase'],
      [4, 5, 'increase'],
      [5, 4, 'overload'],
    ]);
    expect(changes.at(-1)).toMatchObject({ key: 'slots', at: 0 });
    expect(limit.stats()).toMatchObject({ slots: { value: 4, floor: 1, ceiling: 5, phase: 'additive', decreases: 1 } });
    off();
  });

  it('does not grow while demand stays below the value (no saturation)', async () => {
    const clock = new FakeClock();
    const limit = new AdaptiveLimit({ key: 'slots', kind: 'concurrency', initial: 10, ceiling: 100, clock });
    for (let i = 0; i < 50; i++) (await limit.acquire()).update({ slots: 1 }).release();
    expect(limit.value).toBe(10);
  });

  it('a rate grows only while it is used: 10 calls/s never raise a value of 100/s', async () => {
    const clock = new FakeClock();
    const limit = make(clock, { initial: 100 });
    for (let i = 0; i < 100; i++) {
      (await limit.acquire()).update({ requests: 1 }).release();
      await clock.advance(100);
    }
    expect(limit.value).toBe(100);
    expect(limit.stats()).toMatchObject({ requests: { increases: 0, granted: 100 } });
  });

  it('rising latency cuts it', async () => {
    const clock = new FakeClock();
    const limit = new AdaptiveLimit({ key: 'slots', kind: 'concurrency', initial: 10, ceiling: 100, latencyTolerance: 2, clock });
    const call = async (ms: number) => {
      const acq = await limit.acquire();
      await clock.advance(ms);
      acq.update({ slots: 1 }).release();
    };
    for (let i = 0; i < 30; i++) await call(50);
    expect(limit.value).toBe(10);
    for (let i = 0; i < 30 && limit.value === 10; i++) await call(400);
    expect(limit.value).toBe(9);
    expect(limit.stats()).toMatchObject({ slots: { decreases: 1 } });
  });

  it('run() reports the outcome itself: success grows, a 429 cuts, other errors are no signal', async () => {
    const clock = new FakeClock();
    const limit = new AdaptiveLimit({ key: 'slots', kind: 'concurrency', initial: 1, ceiling: 10, decrease: 0.5, clock });
    await limit.run(undefined, () => 'ok');
    expect(limit.value).toBe(3);
    await expect(limit.run(undefined, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(limit.value).toBe(3);
    await expect(limit.run(undefined, () => Promise.reject(Object.assign(new Error('429'), { status: 429 })))).rejects.toThrow('429');
    expect(limit.value).toBe(1);
  });

  it('acquire() honours timeout and signal, and frees the queue', async () => {
    const clock = new FakeClock();
    const limit = new AdaptiveLimit({ key: 'slots', kind: 'concurrency', initial: 1, ceiling: 1, clock });
    const held = await limit.acquire();
    const timed = limit.acquire({}, { timeout: 100 }).catch((e: unknown) => e);
    await clock.advance(100);
    expect(await timed).toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const aborted = limit.acquire({}, { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect((await aborted as Error).name).toBe('AbortError');
    expect(limit.stats().waiting).toBe(0);
    held.release();
    expect(clock.pendingTimers).toBe(0);
  });

  it('adaptiveUsage: success = 1, overload = 0 with Retry-After, other errors = nothing', () => {
    expect(adaptiveUsage('r')).toEqual({ r: 1 });
    expect(adaptiveUsage('r', Object.assign(new Error('x'), { status: 429, headers: { 'retry-after': '2' } }))).toEqual({ r: 0, retryAfterMs: 2000 });
    expect(adaptiveUsage('r', new Error('rate limit exceeded'))).toEqual({ r: 0 });
    expect(adaptiveUsage('r', Object.assign(new Error('x'), { status: 503 }))).toEqual({});
    expect(adaptiveUsage('r', Object.assign(new Error('x'), { status: 503 }), () => true)).toEqual({ r: 0 });
  });

  it('rejects bad options with ConfigError naming the option', () => {
    const ok = { key: 'r', initial: 5, ceiling: 10 };
    expect(() => new AdaptiveLimit({ ...ok, key: '' })).toThrow(/'AdaptiveLimit.key'/);
    expect(() => new AdaptiveLimit({ ...ok, kind: 'burst' as any })).toThrow(/'AdaptiveLimit.kind': got "burst"; expected one of 'rate', 'concurrency'/);
    expect(() => new AdaptiveLimit({ ...ok, initial: 11 })).toThrow(/'AdaptiveLimit.initial': got 11; expected a number from 1 to 10/);
    expect(() => new AdaptiveLimit({ ...ok, floor: 20 })).toThrow(/'AdaptiveLimit.ceiling'/);
    expect(() => new AdaptiveLimit({ ...ok, decrease: 1 })).toThrow(/'AdaptiveLimit.decrease'/);
    expect(() => new AdaptiveLimit({ ...ok, decrease: 0 })).toThrow(/'AdaptiveLimit.decrease'/);
    expect(() => new AdaptiveLimit({ ...ok, increase: -1 })).toThrow(/'AdaptiveLimit.increase'/);
    expect(() => new AdaptiveLimit({ ...ok, latencyTolerance: 0.5 })).toThrow(/'AdaptiveLimit.latencyTolerance'/);
    expect(() => new AdaptiveLimit({ ...ok, window: 'fortnight' as any })).toThrow(/'AdaptiveLimit.window'/);
    expect(() => new AdaptiveLimit({ ...ok, isOverload: 1 as any })).toThrow(/'AdaptiveLimit.isOverload'/);
    expect(() => new AdaptiveLimit({ ...ok, kind: 'concurrency', floor: 1.5 })).toThrow(/'AdaptiveLimit.floor': got 1.5; expected an integer >= 1/);
    expect(() => new AdaptiveLimit({ ...ok, cieling: 3 } as any)).toThrow(ConfigError);
    const limit = new AdaptiveLimit(ok);
    expect(() => limit.on('changed' as any, () => {})).toThrow(/'event'/);
    return expect(limit.acquire({ r: -1 })).rejects.toThrow(/amount for 'r' must be an integer >= 0/);
  });
});

describe('AdaptiveLimit shared by a pool', () => {
  const handles: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.stop()));
  });

  for (const mode of ['async', 'thread', 'process'] as const) {
    it(`${mode}: every worker acquires from the caller's one value and its outcomes adapt it`, async () => {
      const limit = new AdaptiveLimit({ key: 'requests', kind: 'concurrency', initial: 4, ceiling: 8, decrease: 0.5 });
      const pool = AdaptiveCaller.options({ mode, maxWorkers: 2, limits: limit }).init();
      handles.push(pool);
      expect(await Promise.all(Array.from({ length: 8 }, () => pool.call('ok')))).toEqual(Array(8).fill('ok'));
      const grown = limit.value;
      expect(grown).toBeGreaterThanOrEqual(4);
      await expect(pool.call('429')).rejects.toThrow('Too Many Requests');
      expect(limit.value).toBe(Math.floor(grown / 2));
      expect(limit.stats()).toMatchObject({ requests: { granted: 9, refused: 1, decreases: 1, held: 0 }, waiting: 0 });
    });
  }

  it('works inside a LimitPool (served over the channel, never from shared memory)', async () => {
    const limit = new AdaptiveLimit({ key: 'requests', kind: 'concurrency', initial: 2, ceiling: 8 });
    const pool = AdaptiveCaller.options({ mode: 'thread', maxWorkers: 2, limits: new LimitPool([limit]) }).init();
    handles.push(pool);
    await Promise.all(Array.from({ length: 4 }, () => pool.call('ok')));
    expect(limit.stats()).toMatchObject({ requests: { granted: 4, held: 0 } });
  });
});
