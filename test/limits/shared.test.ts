/**
 * Limits in shared memory: the algorithms and LimitSet counters move into a SharedArrayBuffer when
 * a set is shared with thread workers. These tests drive the shared state from two "threads" in
 * one (two objects over the same memory, as a worker thread would attach) so every interleaving
 * is reproducible; test/modes/ipc.test.ts runs the real threads.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LimitSet, ResourceLimit, type Acquisition, type RateAlgorithmName } from '../../src/index.js';
import { MAX_LOG_ENTRIES, RATE_ALGORITHMS, SlidingWindow, createAlgorithm } from '../../src/limits/algorithms.js';

type Op = { kind: 'take' | 'refund' | 'probe'; dt: number; n: number; side: 0 | 1 };

const opArb = fc.record({
  kind: fc.constantFrom<Op['kind']>('take', 'take', 'refund', 'probe'),
  dt: fc.integer({ min: 0, max: 40 }),
  n: fc.integer({ min: 1, max: 5 }),
  side: fc.constantFrom<0 | 1>(0, 1),
});

describe('rate algorithms on shared memory', () => {
  it('property: shared halfway and driven from two attached copies, an algorithm answers exactly as a private one', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<RateAlgorithmName>(...RATE_ALGORITHMS),
        fc.integer({ min: 5, max: 60 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(opArb, { minLength: 1, maxLength: 150 }),
        fc.nat(),
        (name, capacity, window, ops, shareAtSeed) => {
          const reference = createAlgorithm(name, capacity, window, 0);
          const owner = createAlgorithm(name, capacity, window, 0);
          let other: ReturnType<typeof createAlgorithm> | undefined;
          const shareAt = shareAtSeed % ops.length;
          let now = 0;
          for (const [i, op] of ops.entries()) {
            if (i === shareAt) other = createAlgorithm(name, capacity, window, 0, owner.share());
            now += op.dt;
            const subject = op.side === 1 && other ? other : owner;
            const n = Math.min(op.n, capacity);
            if (op.kind === 'take') {
              const wait = reference.waitFor(now, n);
              if (subject.waitFor(now, n) !== wait) return false;
              if (wait === 0) {
                reference.take(now, n);
                subject.take(now, n);
              }
            } else if (op.kind === 'refund') {
              reference.refund(now, n);
              subject.refund(now, n);
            }
            if (subject.available(now) !== reference.available(now)) return false;
          }
          return true;
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('a sliding window log that grew in private memory keeps every entry when shared', () => {
    const sw = createAlgorithm('sliding-window', 100, 1000, 0);
    for (let t = 0; t < 60; t++) sw.take(t, 1); // 60 distinct ms: the private ring grew past its start size
    const attached = createAlgorithm('sliding-window', 100, 1000, 0, sw.share());
    expect(attached.available(59)).toBe(40);
    expect(attached.waitFor(59, 41)).toBe(1000 - 59 + 0); // the oldest entry (t=0) expires at 1000
    expect(attached.available(1030)).toBe(100 - 29);
  });
});

describe('sliding window log size', () => {
  it('property: a log capped at a few entries merges conservatively and stays strict', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 30 }), n: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 200 }),
        (capacity, window, maxLog, arrivals) => {
          const sw = new SlidingWindow(capacity, window, undefined, maxLog);
          const admitted: number[] = [];
          let t = 0;
          for (const { gap, n } of arrivals) {
            t += gap;
            const amount = Math.min(n, capacity);
            if (sw.waitFor(t, amount) === 0) {
              sw.take(t, amount);
              for (let i = 0; i < amount; i++) admitted.push(t);
            }
          }
          let j = 0;
          for (let i = 0; i < admitted.length; i++) {
            while (admitted[i]! - admitted[j]! >= window) j++;
            if (i - j + 1 > capacity) return false;
          }
          return true;
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('shares a day-long, million-token window in at most ~1 MB', () => {
    const sw = createAlgorithm('sliding-window', 10_000_000, 86_400_000, 0);
    for (let t = 0; t < 100_000; t++) sw.take(t, 1); // more distinct ms than the log keeps
    const shared = sw.share();
    expect(shared.byteLength).toBeLessThanOrEqual((MAX_LOG_ENTRIES + 1) * 16 + 64);
    expect(sw.available(100_000)).toBe(10_000_000 - 100_000); // merging loses no units
  });
});

/** An attached set as a worker thread would build it, with the owner reached directly. */
function attachedTo(owner: LimitSet) {
  const state = owner.shareWithThreads()!;
  let pumps = 0;
  const set = LimitSet.attach(state, {
    acquire: (requested, options) => owner.acquire(requested, options),
    released: () => {
      pumps++;
      owner.wake();
    },
  });
  return { set, state, pumps: () => pumps };
}

describe('a LimitSet shared with threads', () => {
  it('property: owner and attached sets never over-grant together, and availability returns to capacity', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ side: fc.constantFrom(0, 1), release: fc.nat() }), { minLength: 1, maxLength: 60 }),
        async (capacity, steps) => {
          const owner = new LimitSet([new ResourceLimit({ key: 'slot', capacity })]);
          const { set: attached } = attachedTo(owner);
          const held: Acquisition[] = [];
          for (const step of steps) {
            const acq = (step.side === 0 ? owner : attached).tryAcquire();
            if (acq) held.push(acq);
            if (held.length > capacity) return false;
            if (held.length > 0 && step.release % 3 === 0) held.splice(step.release % held.length, 1)[0]!.release();
          }
          for (const acq of held) acq.release();
          return (owner.stats().slot as { available: number }).available === capacity && (attached.stats().slot as { available: number }).available === capacity;
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keeps FIFO across threads: while a request waits at the owner, an attached set takes nothing itself', async () => {
    const owner = new LimitSet([new ResourceLimit({ key: 'slot', capacity: 2 })]);
    const { set: attached, pumps } = attachedTo(owner);
    const first = owner.tryAcquire({ slot: 1 })!;
    const big = owner.acquire({ slot: 2 }); // queued at the owner: only 1 is free
    expect(attached.tryAcquire({ slot: 1 })).toBeUndefined(); // 1 is free, but the big request came first
    const order: string[] = [];
    const small = attached.acquire({ slot: 1 }).then((acq) => (order.push('attached'), acq));
    void big.then(() => order.push('big'));
    first.release();
    const bigAcq = await big;
    bigAcq.release();
    (await small).release();
    expect(order).toEqual(['big', 'attached']);
    expect((attached.stats().slot as { available: number }).available).toBe(2);
    expect(pumps()).toBe(0); // releases done at the owner need no wake-up message
  });

  it('a release in an attached set wakes the owner only when someone waits', async () => {
    const owner = new LimitSet([new ResourceLimit({ key: 'slot', capacity: 1 })]);
    const { set: attached, pumps } = attachedTo(owner);
    attached.tryAcquire()!.release();
    expect(pumps()).toBe(0);
    const held = attached.tryAcquire()!;
    const waiter = owner.acquire();
    held.release();
    expect(pumps()).toBe(1);
    (await waiter).release();
  });

  it('gives back what a dead thread held through its own fast path, and frees a lock it died holding', () => {
    const owner = new LimitSet([new ResourceLimit({ key: 'slot', capacity: 2 })]);
    const { set: attached, state } = attachedTo(owner);
    attached.tryAcquire();
    attached.tryAcquire();
    expect(owner.tryAcquire()).toBeUndefined();
    const deadThreadId = 41;
    Atomics.store(state.sync, 0, deadThreadId + 1); // it died inside the critical section
    owner.threadGone(state.holdings, deadThreadId);
    expect((owner.stats().slot as { held: number }).held).toBe(0);
    expect(owner.tryAcquire()).toBeDefined();
  });

  it('takes over a lock held for over a second by a thread that died before its exit was seen', async () => {
    const owner = new LimitSet([new ResourceLimit({ key: 'slot', capacity: 1 })]);
    const { state } = attachedTo(owner);
    Atomics.store(state.sync, 0, 77 + 1); // thread 77 was terminated inside the critical section
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const t0 = performance.now();
    const acq = owner.tryAcquire();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(acq).toBeDefined();
    acq!.release();
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    process.off('warning', onWarning);
    expect(warnings.map((w) => (w as Error & { code?: string }).code)).toContain('CONCURRY_LIMIT_LOCK_TAKEN_OVER');
    expect(Atomics.load(state.sync, 0)).toBe(0);
  });

  it('is not shared when the set runs on an injected clock (workers then go through the channel)', async () => {
    const { FakeClock } = await import('../../src/index.js');
    expect(new LimitSet([], { clock: new FakeClock() }).shareWithThreads()).toBeUndefined();
  });
});
