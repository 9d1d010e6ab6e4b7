/**
 * Resilience on the call path, in every mode: per-call timeout, cancellation, fallback, circuit
 * breaker (shared by a pool), hedging, events on handles and diagnostics_channel, latency metrics,
 * chaos injection, and the termination of a thread/process method that ignores its abort.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CancelledError,
  ChaosError,
  CircuitOpenError,
  ConfigError,
  FakeClock,
  ResourceLimit,
  RetryValidationError,
  TimeoutError,
  gather,
  type Mode,
  type RuntimeEvent,
} from '../../src/index.js';
import { Flaky, Replica } from '../fixtures/resilience-workers.js';
import { LimitHolder } from '../fixtures/limit-holder.js';

const MODES: Mode[] = ['sync', 'async', 'thread', 'process'];
const handles: { stop(): Promise<void> }[] = [];
function track<H extends { stop(): Promise<void> }>(h: H): H {
  handles.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

describe.each(MODES)('resilience in %s mode', (mode) => {
  it('timeout: rejects with TimeoutError, aborts the signal, counts it, and the worker goes on', async () => {
    const w = track(Flaky.options({ mode, timeout: 100 }).init());
    await w.ready(); // the deadline counts from the send, so keep a thread's startup out of it
    const events: RuntimeEvent[] = [];
    w.on('timeout', (e) => events.push(e));
    const started = performance.now();
    const error = await w.slow(10_000).then(
      () => undefined,
      (e) => e,
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe('Flaky.slow timed out after 100 ms');
    expect(performance.now() - started).toBeLessThan(5000);
    // the aborted method returned, so the actor is free for the next call at once
    expect(await w.ok('next')).toBe('next');
    expect(w.stats().methods.slow!.timeouts).toBe(1);
    expect(events).toEqual([{ type: 'timeout', methodName: 'slow', timeoutMs: 100 }]);
  });

  it('per-method timeout record: null means none', async () => {
    const w = track(Flaky.options({ mode, timeout: { '*': 50, slow: null } }).init());
    expect(await w.slow(120)).toBe('slept 120');
  });

  it('cancel(): drops a queued call and aborts a running one; both reject with CancelledError', async () => {
    const w = track(Flaky.options({ mode }).init());
    const running = w.slow(10_000);
    const queued = w.count();
    await new Promise((r) => setTimeout(r, 50));
    expect(queued.cancel()).toBe(true);
    expect(running.cancel()).toBe(true);
    await expect(queued).rejects.toBeInstanceOf(CancelledError);
    await expect(running).rejects.toBeInstanceOf(CancelledError);
    // the queued count() never ran: the next one is the first
    expect(await w.count()).toBe(1);
  });

  it('fallback: a value replaces a final failure; a function gets the error and the call', async () => {
    const byValue = track(Flaky.options({ mode, fallback: 'n/a' }).init());
    expect(await byValue.fail(503)).toBe('n/a');
    const byFn = track(
      Flaky.options({ mode, fallback: (e: unknown, ctx: { methodName: string; args: readonly unknown[] }) => `${ctx.methodName}(${ctx.args}) → ${(e as Error).message}` }).init(),
    );
    expect(await byFn.fail(500)).toBe('fail(500) → failed with 500');
    const s = byFn.stats().methods.fail!;
    expect(s).toMatchObject({ calls: 1, failures: 1, successes: 0, fallbacks: 1 });
  });

  it('fallback also answers a timeout, but never a cancellation', async () => {
    const w = track(Flaky.options({ mode, timeout: 50, fallback: 'late' }).init());
    expect(await w.slow(10_000)).toBe('late');
    const f = w.slow(10_000);
    f.cancel();
    await expect(f).rejects.toBeInstanceOf(CancelledError);
  });

  it('circuit breaker: opens after failures; open calls fail at once without reaching the worker', async () => {
    const w = track(Flaky.options({ mode, circuitBreaker: { failureThreshold: 2, recoveryTimeout: 60_000 } }).init());
    const states: string[] = [];
    w.on('circuit-state', (e) => states.push(`${e.from}>${e.to}`));
    for (let i = 0; i < 2; i++) await expect(w.fail(503)).rejects.toThrow('failed with 503');
    expect(w.circuit.state).toBe('open');
    await expect(w.count()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(w.stats().methods.count!.circuitRejections).toBe(1);
    expect(states).toEqual(['closed>open']);
  });

  it('latency metrics per method', async () => {
    const w = track(Flaky.options({ mode }).init());
    await gather(Array.from({ length: 20 }, () => w.ok()));
    const latency = w.stats().methods.ok!.latencyMs;
    expect(latency.count).toBe(20);
    expect(latency.samples).toBe(20);
    expect(latency.p50).toBeGreaterThan(0);
    expect(latency.p50).toBeLessThanOrEqual(latency.p95);
    expect(latency.p95).toBeLessThanOrEqual(latency.p99);
    expect(latency.p99).toBeLessThanOrEqual(latency.max);
  });

  it('chaos: injected errors keep their class and status across the boundary', async () => {
    const w = track(Flaky.options({ mode, chaos: { errorRate: 1, errorStatus: 502 } }).init());
    const error = await w.ok().then(
      () => undefined,
      (e) => e,
    );
    expect(error).toBeInstanceOf(ChaosError);
    expect(error.status).toBe(502);
    expect(error.message).toBe('Injected fault in ok');
  });

  it('chaos: invalid outputs are caught by retryUntil and surface as RetryValidationError', async () => {
    const w = track(
      Flaky.options({ mode, chaos: { invalidRate: 1, invalidValue: { broken: true } }, numRetries: 2, retryUntil: (ctx: { result: unknown }) => typeof ctx.result === 'string' }).init(),
    );
    const error = await w.ok('fine').then(
      () => undefined,
      (e) => e,
    );
    expect(error).toBeInstanceOf(RetryValidationError);
    expect(error.attempts).toBe(3);
    expect(error.allResults).toEqual([{ broken: true }, { broken: true }, { broken: true }]);
  });
});

describe('circuit breaker timing (fake clock)', () => {
  it('half-opens after recoveryTimeout; a successful probe closes it', async () => {
    const clock = new FakeClock();
    const w = track(Flaky.options({ mode: 'async', clock, circuitBreaker: { failureThreshold: 1, recoveryTimeout: 5000 } }).init());
    await expect(w.fail(503)).rejects.toThrow();
    await expect(w.ok()).rejects.toBeInstanceOf(CircuitOpenError);
    await clock.advance(4999);
    await expect(w.ok()).rejects.toThrow("Circuit 'default' is open after 1 consecutive failures; next probe in 1 ms");
    await clock.advance(1);
    expect(w.circuit.state).toBe('half-open');
    expect(await w.ok('probe')).toBe('probe');
    expect(w.circuit.state).toBe('closed');
    expect(w.circuit.snapshot()).toEqual([{ key: 'default', state: 'closed', consecutiveFailures: 0, windowCalls: 0, windowFailures: 0, opened: 1 }]);
  });

  it('per-key breakers: one provider failing does not stop the other', async () => {
    const w = track(
      Flaky.options({ mode: 'async', circuitBreaker: { failureThreshold: 1, key: (_m: string, args: readonly unknown[]) => String(args[0]) } }).init(),
    );
    await expect(w.fail(503)).rejects.toThrow();
    expect(w.circuit.stateOf('503')).toBe('open');
    await expect(w.fail(503)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(await w.ok('other')).toBe('other');
  });
});

describe('circuit breaker shared across a 4-worker thread pool', () => {
  it('failures on any worker open the one breaker; then no call is dispatched to any worker', async () => {
    const pool = track(Flaky.options({ mode: 'thread', maxWorkers: 4, circuitBreaker: { failureThreshold: 4, recoveryTimeout: 60_000 } }).init());
    await pool.ready();
    const results = await gather(Array.from({ length: 4 }, () => pool.fail(503)), { returnExceptions: true });
    expect(results.every((r) => r instanceof Error && r.message === 'failed with 503')).toBe(true);
    expect(new Set(pool.stats().pool!.workers.map((w) => w.failed))).toEqual(new Set([1]));
    expect(pool.circuit.state).toBe('open');
    const dispatched = pool.stats().pool!.dispatched;
    const rejected = await gather(Array.from({ length: 10 }, () => pool.ok()), { returnExceptions: true });
    expect(rejected.every((r) => r instanceof CircuitOpenError)).toBe(true);
    expect(pool.stats().pool!.dispatched).toBe(dispatched);
  });
});

describe('timeouts in thread and process modes: a method that ignores its signal', () => {
  it.each(['thread', 'process'] as const)('%s: the worker is terminated after the grace period and replaced', async (mode) => {
    const w = track(Flaky.options({ mode, timeout: { '*': null, stubborn: 100 }, timeoutGrace: 200 }).init());
    const before = await w.whereAmI();
    const terminated: RuntimeEvent[] = [];
    w.on('worker-terminated', (e) => terminated.push(e));
    const stuck = w.stubborn(60_000);
    const queuedBehind = w.whereAmI(); // waits behind the stuck call, then moves to the replacement
    await expect(stuck).rejects.toBeInstanceOf(TimeoutError);
    const after = await queuedBehind;
    expect(after).not.toBe(before);
    expect(terminated).toEqual([
      { type: 'worker-terminated', methodName: 'stubborn', reason: 'Flaky.stubborn kept running 200 ms after its 100 ms timeout aborted its signal' },
    ]);
    expect(w.stats().pool!.workers[0]!.replacements).toBe(1);
  });
});

describe('hedging', () => {
  it('a slow worker is hedged to another: latency ≈ afterMs + normal; the slow copy is aborted', async () => {
    const pool = track(Replica.options({ mode: 'thread', maxWorkers: 2, hedge: { afterMs: 100, methods: ['lookup'] } }).init(5_000));
    await pool.ready();
    const slowWhere = await pool.where(); // round-robin: worker 0
    const fastWhere = await pool.where(); // worker 1
    expect(slowWhere).not.toBe(fastWhere);
    const hedges: RuntimeEvent[] = [];
    pool.on('hedge', (e) => hedges.push(e));
    const started = performance.now();
    const result = await pool.lookup('k', slowWhere); // goes to worker 0, the slow one
    const elapsed = performance.now() - started;
    expect(result).toBe(`k@${fastWhere}`);
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(2_000);
    expect(pool.stats().methods.lookup).toMatchObject({ hedges: 1, hedgeWins: 1, successes: 1 });
    expect(hedges).toEqual([{ type: 'hedge', methodName: 'lookup', hedge: 1 }]);
    // the losing copy was aborted: worker 0 is free again soon, not after 5 s
    await expect.poll(() => pool.stats().pool!.workers[0]!.active, { timeout: 2_000 }).toBe(0);
  });

  it('a fast call is never hedged', async () => {
    const pool = track(Replica.options({ mode: 'async', maxWorkers: 2, hedge: { afterMs: 1_000, methods: ['lookup'] } }).init(0));
    expect(await pool.lookup('k', 'nowhere')).toMatch(/^k@/);
    expect(pool.stats().methods.lookup!.hedges).toBe(0);
  });
});

describe('events on diagnostics_channel and limit waits', () => {
  it('publishes handle events on concurry:<type> with the class name', async () => {
    const seen: unknown[] = [];
    const onMessage = (m: unknown) => seen.push(m);
    diagnosticsChannel.subscribe('concurry:timeout', onMessage);
    try {
      const w = track(Flaky.options({ mode: 'async', timeout: 20 }).init());
      await expect(w.slow(5_000)).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      diagnosticsChannel.unsubscribe('concurry:timeout', onMessage);
    }
    expect(seen).toEqual([{ className: 'Flaky', type: 'timeout', methodName: 'slow', timeoutMs: 20 }]);
  });

  it.each(['async', 'thread'] as const)('%s: an acquire that waits reports limit-wait', async (mode) => {
    const h = track(LimitHolder.options({ mode, maxConcurrency: 2, limits: [new ResourceLimit({ key: 'slot', capacity: 1 })] }).init());
    const hw: RuntimeEvent[] = [];
    h.on('limit-wait', (e) => hw.push(e));
    await gather([h.hold(100), h.hold(100)]);
    // The second call waits for the first's slot. Under a loaded CI machine the first call's
    // uncontended acquire can itself take ≥ 1 ms and be reported too (docs: any wait ≥ 1 ms).
    const waits = hw.filter((e) => (e as { waitedMs: number }).waitedMs > 50);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatchObject({ type: 'limit-wait', keys: ['slot'] });
  });
});

describe('resilience options are checked at options()', () => {
  it.each([
    [{ timeout: 0 }, "Invalid option 'timeout'"],
    [{ timeout: { slow: 10 } }, "a per-method record needs a '*' entry"],
    [{ timeout: { '*': 10, nope: 5 } }, "the class has no public method 'nope'"],
    [{ circuitBreaker: { failureTreshold: 3 } }, "did you mean 'failureThreshold'"],
    [{ circuitBreaker: { failureRateThreshold: 1.5 } }, 'circuitBreaker.failureRateThreshold'],
    [{ hedge: { afterMs: 10, methods: ['ok'] } }, 'needs a pool to send copies to: set maxWorkers ≥ 2 (got 1)'],
    [{ hedge: { afterMs: 10, methods: ['nope'] }, maxWorkers: 2 }, "no public method 'nope'"],
    [{ hedge: { afterMs: 10 }, maxWorkers: 2 }, 'hedge.methods'],
    [{ chaos: { errorRate: 2 } }, 'chaos.errorRate'],
    [{ timeoutGrace: -1 }, 'timeoutGrace'],
  ])('%j → ConfigError', (bad, message) => {
    expect(() => Flaky.options({ mode: 'async', ...(bad as object) })).toThrow(ConfigError);
    expect(() => Flaky.options({ mode: 'async', ...(bad as object) })).toThrow(message);
  });
});
