import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  FakeClock,
  RetryBudget,
  RetryValidationError,
  backoffDelay,
  retrying,
  seededRandom,
  transientErrors,
  type JitterStyle,
  type RetryEvent,
  type RetryingOptions,
} from '../../src/index.js';
// The engine is internal (not exported by the package): compared against through its own module.
import { executeWithRetry, resolveRetryPolicy } from '../../src/retry/index.js';

const httpError = (status: number, extra: Record<string, unknown> = {}) => Object.assign(new Error(`HTTP ${status}`), { status, ...extra });

/**
 * Runs a manual loop whose body fails per `fate(attempt)` (an error to throw, or undefined = success),
 * on a fake clock; returns the outcome, attempts, the waits between them (from the clock) and events.
 */
async function drive(options: RetryingOptions, fate: (attempt: number) => unknown) {
  const clock = new FakeClock();
  const events: RetryEvent[] = [];
  const starts: number[] = [];
  const p = (async () => {
    for await (const attempt of retrying({ clock, random: seededRandom(1), onEvent: (e) => events.push(e), ...options })) {
      starts.push(clock.now());
      try {
        const error = fate(attempt.number);
        if (error !== undefined) throw error;
        return `ok after ${attempt.number}`;
      } catch (e) {
        await attempt.failed(e);
      }
    }
    return 'loop ended';
  })().then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  await clock.runAll();
  const out = await p;
  const waits = starts.slice(1).map((t, i) => t - starts[i]!);
  return { out, attempts: starts.length, waits, events };
}

describe('backoffDelay', () => {
  it('gives 1000, 2000, 4000, 8000, 16000 for the defaults without jitter', () => {
    expect([1, 2, 3, 4, 5].map((k) => backoffDelay(k, { retryJitter: 0 }))).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it('caps at retryMaxWait and follows the algorithm', () => {
    expect([1, 2, 3, 4].map((k) => backoffDelay(k, { retryJitter: 0, retryAlgorithm: 'linear', retryWait: 10, retryMaxWait: 25 }))).toEqual([10, 20, 25, 25]);
  });

  it('is the Retry-After of the error when that is longer', () => {
    expect(backoffDelay(1, { retryJitter: 0, retryWait: 100, error: httpError(429, { retryAfterMs: 5000 }) })).toBe(5000);
    expect(backoffDelay(1, { retryJitter: 0, retryWait: 100, error: httpError(429, { retryAfterMs: 50 }) })).toBe(100);
  });

  it('gives exactly the waits the engine sleeps, jitter included (same seed)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('exponential', 'linear', 'fibonacci', 'constant', 'decorrelated' as const),
        fc.constantFrom<number | JitterStyle>(0, 0.3, 1, 'full', 'equal', 'none'),
        fc.integer(),
        async (retryAlgorithm, retryJitter, seed) => {
          const options = { numRetries: 5, retryWait: 100, retryMaxWait: 3000, retryAlgorithm, retryJitter: retryAlgorithm === 'decorrelated' ? 1 : retryJitter };
          const clock = new FakeClock();
          const slept: number[] = [];
          const p = executeWithRetry(
            () => {
              throw new Error('x');
            },
            resolveRetryPolicy(options),
            { clock, random: seededRandom(seed), methodName: 'm', args: [], workerClass: '', emit: (e) => e.type === 'retry' && slept.push(e.delayMs) },
          ).catch(() => undefined);
          await clock.runAll();
          await p;
          const random = seededRandom(seed);
          const mine: number[] = [];
          for (let k = 1; k <= 5; k++) mine.push(backoffDelay(k, { ...options, random, previousWait: mine[k - 2] }));
          expect(mine).toEqual(slept);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('validates its input with ConfigError naming the option', () => {
    expect(() => backoffDelay(0)).toThrow(ConfigError);
    expect(() => backoffDelay(0)).toThrow(/'attempt': got 0; expected an integer >= 1/);
    expect(() => backoffDelay(1.5)).toThrow(/'attempt'/);
    expect(() => backoffDelay(1, { retryWait: -1 })).toThrow(/'retryWait'/);
    expect(() => backoffDelay(1, { previousWait: -1 })).toThrow(/'previousWait'/);
    expect(() => backoffDelay(1, { random: 3 as any })).toThrow(/'random'/);
  });
});

describe('named jitter styles', () => {
  const c = 1000; // attempt 1, defaults
  it("'full' is retryJitter 1: U(0, c)", () => {
    expect(backoffDelay(1, { retryJitter: 'full', random: () => 0 })).toBe(0);
    expect(backoffDelay(1, { retryJitter: 'full', random: () => 0.5 })).toBe(c / 2);
  });
  it("'equal' is retryJitter 0.5: c/2 + U(0, c/2)", () => {
    expect(backoffDelay(1, { retryJitter: 'equal', random: () => 0 })).toBe(c / 2);
    expect(backoffDelay(1, { retryJitter: 'equal', random: () => 0.999 })).toBeCloseTo(c - 0.5, 5);
  });
  it("'none' is retryJitter 0", () => expect(backoffDelay(3, { retryJitter: 'none', random: () => 0.3 })).toBe(4000));
  it("'decorrelated' is the decorrelated algorithm: between w and 3× the previous wait", () => {
    expect(backoffDelay(2, { retryJitter: 'decorrelated', previousWait: 2000, random: () => 1 })).toBe(6000);
    expect(backoffDelay(2, { retryJitter: 'decorrelated', previousWait: 2000, random: () => 0 })).toBe(1000);
    expect(resolveRetryPolicy({ retryJitter: 'decorrelated' }).algorithm).toBe('decorrelated');
  });
  it('rejects unknown styles and a decorrelated style with another algorithm', () => {
    expect(() => resolveRetryPolicy({ retryJitter: 'half' as any })).toThrow(/'retryJitter': got "half"; expected a number from 0 to 1 or one of 'full', 'equal', 'decorrelated', 'none'/);
    expect(() => resolveRetryPolicy({ retryJitter: 'decorrelated', retryAlgorithm: 'linear' })).toThrow(ConfigError);
    expect(() => resolveRetryPolicy({ retryJitter: 'decorrelated', retryAlgorithm: 'linear' })).toThrow(/'retryJitter'.*retryAlgorithm 'linear'/);
  });
});

describe('retrying()', () => {
  it('retries until the body succeeds, waiting the backoff between attempts', async () => {
    const r = await drive({ numRetries: 5, retryWait: 100, retryJitter: 0 }, (a) => (a < 4 ? new Error(`fail ${a}`) : undefined));
    expect(r.out).toEqual({ ok: true, v: 'ok after 4' });
    expect(r.waits).toEqual([100, 200, 400]);
    expect(r.events.map((e) => e.type)).toEqual(['retry', 'retry', 'retry', 'retry-success']);
    expect(r.events.at(-1)).toEqual({ type: 'retry-success', methodName: 'retrying', attempts: 4 });
  });

  it('rethrows the last error, unchanged, when retries run out', async () => {
    const r = await drive({ numRetries: 2, retryWait: 10, retryJitter: 0, name: 'upload' }, (a) => new Error(`fail ${a}`));
    expect(r.out.ok).toBe(false);
    expect((r.out as { e: Error }).e.message).toBe('fail 3');
    expect(r.attempts).toBe(3);
    expect(r.events.at(-1)).toMatchObject({ type: 'retry-exhausted', methodName: 'upload', attempts: 3, error: { message: 'fail 3' } });
  });

  it('honours retryOn: a non-retryable error is rethrown at once', async () => {
    const r = await drive({ numRetries: 5, retryOn: transientErrors }, () => httpError(404));
    expect(r.attempts).toBe(1);
    expect((r.out as { e: Error }).e.message).toBe('HTTP 404');
  });

  it('waits at least the Retry-After the error carries', async () => {
    const r = await drive({ numRetries: 1, retryWait: 10, retryJitter: 0 }, (a) => (a === 1 ? httpError(429, { headers: { 'retry-after': '3' } }) : undefined));
    expect(r.waits).toEqual([3000]);
  });

  it('stops before a wait that would end past retryTimeout', async () => {
    const r = await drive({ numRetries: 10, retryWait: 100, retryJitter: 0, retryTimeout: 1000 }, (a) => new Error(`fail ${a}`));
    // waits 100, 200, 400 end at 700; the next (800) would end at 1500 > 1000.
    expect(r.attempts).toBe(4);
    expect((r.out as { e: Error }).e.message).toBe('fail 4');
  });

  it('draws retries from a budget and rethrows when it is empty', async () => {
    const clock = new FakeClock();
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0 }, clock);
    const r = await drive({ numRetries: 3, retryWait: 1, budget, clock } as RetryingOptions, () => new Error('no'));
    expect(r.attempts).toBe(1);
    expect(budget.denied).toBe(1);
  });

  it('supports retryUntil through attempt.validate(), feeding reasons back', async () => {
    const clock = new FakeClock();
    const seen: string[][] = [];
    const p = (async () => {
      for await (const attempt of retrying({ clock, numRetries: 3, retryWait: 10, retryUntil: (r: number) => r > 2 || `too small: ${r}` })) {
        seen.push([...attempt.validationErrors]);
        if (await attempt.validate(attempt.number)) return attempt.number;
      }
      return -1;
    })();
    await clock.runAll();
    expect(await p).toBe(3);
    expect(seen).toEqual([[], ['too small: 1'], ['too small: 1', 'too small: 2']]);
  });

  it('raises RetryValidationError when outputs stay invalid', async () => {
    const clock = new FakeClock();
    const p = (async () => {
      for await (const attempt of retrying({ clock, numRetries: 1, retryWait: 10, retryUntil: () => 'bad' })) await attempt.validate('x');
    })().catch((e: unknown) => e);
    await clock.runAll();
    const e = (await p) as RetryValidationError;
    expect(e).toBeInstanceOf(RetryValidationError);
    expect(e.attempts).toBe(2);
    expect(e.allResults).toEqual(['x', 'x']);
  });

  it('a body that ends without failed() ends the loop (success)', async () => {
    let n = 0;
    for await (const attempt of retrying({ numRetries: 3 })) n = attempt.number;
    expect(n).toBe(1);
  });

  it('rejects with the abort reason when the signal aborts during a wait', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = (async () => {
      for await (const attempt of retrying({ clock, signal: ac.signal, numRetries: 3, retryWait: 1000, retryJitter: 0 })) {
        await attempt.failed(new Error('x'));
      }
    })().catch((e: unknown) => e);
    await clock.advance(10);
    ac.abort(new Error('stop'));
    await clock.advance(10);
    expect(((await p) as Error).message).toBe('stop');
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses failed() twice for one attempt', async () => {
    const clock = new FakeClock();
    const p = (async () => {
      for await (const attempt of retrying({ clock, numRetries: 3, retryWait: 1 })) {
        const first = attempt.failed(new Error('a'));
        expect(() => attempt.failed(new Error('b'))).toThrow(/attempt 1.failed\(\) called twice/);
        await first;
        return attempt.number;
      }
    })();
    await clock.runAll();
    expect(await p).toBe(1);
  });

  it('checks options at once with ConfigError naming the option', () => {
    expect(() => retrying({ numRetries: -1 })).toThrow(/'numRetries'/);
    expect(() => retrying({ retryJitter: 'wild' as any })).toThrow(/'retryJitter'/);
    expect(() => retrying({ name: 3 as any })).toThrow(/'name'/);
    expect(() => retrying(null as any)).toThrow(ConfigError);
  });
});

describe('retrying(): leaving the loop early', () => {
  it('an onEvent listener that throws on retry-success makes the loop’s return reject with its error', async () => {
    const clock = new FakeClock();
    const boom = new Error('listener failed');
    const run = (async () => {
      for await (const attempt of retrying({
        numRetries: 2,
        retryWait: 10,
        retryJitter: 0,
        clock,
        onEvent: (e) => {
          if (e.type === 'retry-success') throw boom;
        },
      })) {
        if (attempt.number === 1) {
          await attempt.failed(httpError(503));
          continue;
        }
        return 'second attempt';
      }
      return 'loop ended';
    })();
    await clock.runAll();
    await expect(run).rejects.toBe(boom);
  });
});
