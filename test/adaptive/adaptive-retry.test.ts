import { describe, expect, it } from 'vitest';
import { ConfigError, FakeClock, RetryBudget, Worker, retry, seededRandom, type RetryEvent, type RuntimeEvent } from '../../src/index.js';
import { Flaky } from '../fixtures/adaptive-workers.js';

/** Calls a function that fails `failing()` says, under retry() with an adaptive budget; returns attempts and waits. */
async function call(clock: FakeClock, budget: RetryBudget, failing: (attempt: number) => boolean, numRetries = 4) {
  let attempts = 0;
  const waits: number[] = [];
  const fn = retry(
    () => {
      attempts++;
      if (failing(attempts)) throw new Error(`fail ${attempts}`);
      return 'ok';
    },
    { numRetries, retryWait: 100, retryJitter: 0, retryAlgorithm: 'constant', clock, random: seededRandom(1), budget, onEvent: (e: RetryEvent) => e.type === 'retry' && waits.push(e.delayMs) },
  );
  const p = fn().then(
    (v) => v,
    (e: Error) => e.message,
  );
  await clock.runAll();
  return { out: await p, attempts, waits };
}

const adaptiveBudget = (clock: FakeClock) => new RetryBudget({ ratio: 10, minPerSecond: 100, adaptive: { windowMs: 10_000, healthy: 0.9, maxStretch: 4 } }, clock);

describe('adaptive retries (retryBudget.adaptive)', () => {
  it('while calls succeed, the configured retries and waits apply', async () => {
    const clock = new FakeClock();
    const budget = adaptiveBudget(clock);
    // 40 good calls: the call's own 4 failures keep the rate at 1 − 4/44 ≥ 0.9.
    for (let i = 0; i < 40; i++) await call(clock, budget, () => false);
    const r = await call(clock, budget, (a) => a <= 4);
    expect(r).toEqual({ out: 'ok', attempts: 5, waits: [100, 100, 100, 100] });
  });

  it('when most calls fail: fewer retries and longer waits; stats show the rate, max retries and stretch', async () => {
    const clock = new FakeClock();
    const budget = adaptiveBudget(clock);
    for (let i = 0; i < 10; i++) await call(clock, budget, () => true);
    const s = budget.stats();
    expect(s.successRate).toBeLessThan(0.5);
    expect(s.maxRetries).toBe(0);
    expect(s.stretch).toBeGreaterThan(2.5);
    const r = await call(clock, budget, () => true);
    expect(r.attempts).toBe(1); // no retry while health < 1/2
    expect(r.out).toBe('fail 1');
  });

  it('a middling success rate allows some retries, with stretched waits', async () => {
    const clock = new FakeClock();
    const budget = adaptiveBudget(clock);
    // 10 calls, the last 2 failing once then succeeding: 12 attempts, 2 failures → rate 0.83, health 0.93.
    for (let i = 0; i < 10; i++) await call(clock, budget, (a) => i >= 8 && a === 1);
    const s = budget.stats();
    expect(s.successRate).toBeCloseTo(10 / 12, 5);
    expect(s.maxRetries).toBe(12); // floor(h / (1 − h)) with h = (10/12) / 0.9
    const r = await call(clock, budget, (a) => a === 1);
    expect(r.out).toBe('ok');
    expect(r.waits[0]).toBeGreaterThan(100);
    expect(r.waits[0]).toBeLessThan(130);
  });

  it('recovers once the failures leave the window', async () => {
    const clock = new FakeClock();
    const budget = adaptiveBudget(clock);
    for (let i = 0; i < 10; i++) await call(clock, budget, () => true);
    expect(budget.stats().maxRetries).toBe(0);
    await clock.advance(10_001);
    expect(budget.stats()).toMatchObject({ successRate: 1, maxRetries: Infinity, stretch: 1 });
    const r = await call(clock, budget, (a) => a <= 2);
    expect(r).toEqual({ out: 'ok', attempts: 3, waits: [100, 100] });
  });

  it('without adaptive, a budget behaves as before (no stretch, no cap)', () => {
    const budget = new RetryBudget({ ratio: 1 }, new FakeClock());
    expect(budget.stretch()).toBe(1);
    expect(budget.stats()).toEqual({ tokens: 10, allowed: 0, denied: 0 });
  });

  it('validates retryBudget.adaptive with ConfigError naming the option', () => {
    class W extends Worker {
      m(): number {
        return 1;
      }
    }
    expect(() => new RetryBudget({ ratio: 1, adaptive: { windowMs: 0 } })).toThrow(/'retryBudget.adaptive.windowMs'/);
    expect(() => new RetryBudget({ ratio: 1, adaptive: { healthy: 1.5 } })).toThrow(/'retryBudget.adaptive.healthy'/);
    expect(() => new RetryBudget({ ratio: 1, adaptive: { maxStretch: 0.5 } })).toThrow(/'retryBudget.adaptive.maxStretch'/);
    expect(() => new RetryBudget({ ratio: 1, adaptive: 3 as any })).toThrow(/'retryBudget.adaptive'/);
    expect(() => new RetryBudget({ ratio: 1, adaptive: { window: 3 } as any })).toThrow(ConfigError);
    expect(() => W.options({ mode: 'async', numRetries: 2, retryBudget: { ratio: 0.1, adaptive: { healthy: 0 } } })).toThrow(/'retryBudget.adaptive.healthy'/);
  });

  describe.each(['async', 'thread', 'process'] as const)('%s workers reach the caller\'s adaptive budget (async: the reference)', (mode) => {
    it('with the retry number (the cap applies) and the wait stretch', { timeout: 60_000 }, async () => {
      const w = Flaky.options({
        mode,
        numRetries: 3,
        retryWait: 20,
        retryJitter: 0,
        retryAlgorithm: 'constant',
        retryBudget: { ratio: 10, minPerSecond: 100, adaptive: { windowMs: 60_000, healthy: 0.9, maxStretch: 4 } },
      }).init();
      try {
        const retries: RuntimeEvent[] = [];
        w.on('retry', (e) => retries.push(e));
        for (let i = 0; i < 10; i++) expect(await w.call(true)).toBe('ok');
        // 10 good attempts, then a call failing 4 times: its retries see the rate fall below `healthy`,
        // so from the second retry on the answer carries a stretch > 1, used by the next wait.
        await expect(w.call(false)).rejects.toThrow('Service Unavailable');
        expect(retries.map((e) => (e as { delayMs: number }).delayMs)).toEqual([20, 20, expect.any(Number)]);
        expect((retries[2] as { delayMs: number }).delayMs).toBeGreaterThan(20);
        // Failing calls bring the rate below `healthy`: the cap on the retry number applies, as in
        // async mode (without the retry number in the message, thread and process calls made 4 attempts each).
        const attempts: number[] = [];
        for (let i = 0; i < 6; i++) {
          const before = await w.seen();
          await expect(w.call(false)).rejects.toThrow('Service Unavailable');
          attempts.push((await w.seen()) - before);
        }
        expect(attempts).toEqual([3, 3, 2, 2, 2, 2]);
      } finally {
        await w.stop();
      }
    });
  });
});
