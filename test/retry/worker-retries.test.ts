import { afterEach, describe, expect, it } from 'vitest';
import { CallLimit, LimitSet, ResourceLimit, RetryValidationError, gather, transientErrors, type Mode, type RuntimeEvent } from '../../src/index.js';
import { Flaky } from '../fixtures/retry-workers.js';

const handles: { stop(): Promise<void> }[] = [];
const track = <T extends { stop(): Promise<void> }>(h: T): T => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

const fast = { retryWait: 1, retryJitter: 0 } as const;

describe.each(['sync', 'async', 'thread', 'process'] as Mode[])('retries inside the worker, %s mode', (mode) => {
  it('succeeds after k attempts; the worker state sees every attempt', async () => {
    const w = track(Flaky.options({ mode, numRetries: 4, ...fast }).init());
    expect(await w.succeedAt(3)).toEqual({ value: 'ok', calls: 3 });
    expect((await w.history()).seenAttempts).toEqual([1, 2, 3]);
    expect(w.stats().methods.succeedAt).toMatchObject({ calls: 1, attempts: 3, retries: 2, successes: 1, failures: 0 });
  });

  it('exhausted on errors rethrows the last error with its class and properties', async () => {
    const w = track(Flaky.options({ mode, numRetries: 2, ...fast }).init());
    const e = (await w.alwaysFails('http').exception()) as any;
    expect(e.message).toBe('failure 3');
    expect(e.status).toBe(503);
    expect(e.code).toBe('E_DOWN');
  });

  it('retryOn filters by predicate and class', async () => {
    const w = track(Flaky.options({ mode, numRetries: 3, ...fast, retryOn: [transientErrors, RangeError] }).init());
    const e = await w.alwaysFails('type').exception();
    expect(e).toBeInstanceOf(TypeError);
    expect((await w.history()).calls).toBe(1);
  });

  it('validators run with 0 retries; RetryValidationError keeps its fields across the boundary', async () => {
    const w = track(Flaky.options({ mode, retryUntil: (n: number) => n >= 3 || `attempt ${n} is too early` }).init());
    const e = (await w.answer().exception()) as RetryValidationError;
    expect(e).toBeInstanceOf(RetryValidationError);
    expect(e.attempts).toBe(1);
    expect(e.allResults).toEqual([1]);
    expect(e.validationErrors).toEqual(['attempt 1 is too early']);
    expect(e.methodName).toBe('answer');
  });

  it('the method sees why earlier outputs were rejected, and can repair', async () => {
    const w = track(
      Flaky.options({ mode, numRetries: 3, ...fast, retryUntil: { '*': [], answer: (n: number) => n >= 3 || `attempt ${n} is too early` } }).init(),
    );
    expect(await w.answer()).toBe(3);
    expect((await w.history()).seenReasons).toEqual([[], ['attempt 1 is too early'], ['attempt 1 is too early', 'attempt 2 is too early']]);
  });

  it('an error, then invalid outputs: RetryValidationError with the outputs only', async () => {
    const w = track(Flaky.options({ mode, numRetries: 2, ...fast, retryUntil: () => false }).init());
    const e = (await w.errorThenInvalid().exception()) as RetryValidationError;
    expect(e.allResults).toEqual(['out2', 'out3']);
    expect(e.attempts).toBe(3);
  });

  it('per-method settings apply where a call enters from the handle; `this.method()` inside is a plain call', async () => {
    const w = track(Flaky.options({ mode, numRetries: { '*': 0, succeedAt: 3 }, ...fast }).init());
    // outer has no retries and its this.succeedAt() is not wrapped: the first failure is the call's.
    const e = await w.outer(2).exception();
    expect((e as Error).message).toBe('attempt 1 failed');
    expect(await w.succeedAt(2)).toEqual({ value: 'ok', calls: 3 });
    expect(w.stats().methods.succeedAt).toMatchObject({ calls: 1, attempts: 2, retries: 1 });
    expect(w.stats().methods.outer).toMatchObject({ calls: 1, attempts: 1, retries: 0, failures: 1 });
  });

  it('events reach the caller', async () => {
    const w = track(Flaky.options({ mode, numRetries: 2, ...fast }).init());
    const events: RuntimeEvent[] = [];
    for (const t of ['retry', 'retry-success', 'retry-exhausted'] as const) w.on(t, (e) => events.push(e));
    await w.succeedAt(2);
    await w.alwaysFails('http').exception();
    expect(events.map((e) => e.type)).toEqual(['retry', 'retry-success', 'retry', 'retry', 'retry-exhausted']);
    expect(events[0]).toMatchObject({ methodName: 'succeedAt', attempt: 1, delayMs: 1, error: { status: 503 } });
  });

  it('releases what a failed attempt held (even when the method forgot) before retrying: no deadlock', async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slot', capacity: 1 })]);
    const w = track(Flaky.options({ mode, numRetries: 3, ...fast, limits }).init());
    expect(await w.holdThenFail()).toBe('done after 3');
    expect((limits.stats().slot as any).available).toBe(1);
  });
});

describe('limits shared by a pool', () => {
  it('a CallLimit of 20/s shared by a 4-worker thread pool makes 100 calls take ≥ 4 s', async () => {
    const limits = new LimitSet([new CallLimit({ window: 1000, capacity: 20 })]);
    const pool = track(Flaky.options({ mode: 'thread', maxWorkers: 4, limits }).init());
    await pool.ready();
    const t0 = Date.now();
    const stamps = await gather(Array.from({ length: 100 }, () => pool.call()));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3990);
    stamps.sort((a, b) => a - b);
    // never more than 20 in any second (generous 15 ms for clock skew between threads)
    for (let i = 20; i < stamps.length; i++) expect(stamps[i]! - stamps[i - 20]!).toBeGreaterThanOrEqual(985);
  }, 20_000);
});
