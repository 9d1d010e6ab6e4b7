import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  FakeClock,
  LimitUsageError,
  RetryBudget,
  RetryValidationError,
  rateLimitErrors,
  retry,
  retryAfterMs,
  seededRandom,
  transientErrors,
  type RetryEvent,
  type RetryOptions,
} from '../../src/index.js';
// The engine is internal (not exported by the package): tested through its own module.
import { computeWait, executeWithRetry, resolveRetryPolicies, resolveRetryPolicy } from '../../src/retry/index.js';

const env = (clock: FakeClock, extra: Record<string, unknown> = {}) => ({
  clock,
  random: seededRandom(1),
  methodName: 'm',
  args: [],
  workerClass: 'W',
  ...extra,
});

/** Runs `fn` under the retry engine on a fake clock until it settles; returns outcome, attempts and sleeps. */
async function drive(options: RetryOptions, fn: (attempt: number) => unknown, extra: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const events: RetryEvent[] = [];
  let attempts = 0;
  const p = executeWithRetry(
    (ctx) => {
      attempts++;
      return fn(ctx.attempt);
    },
    resolveRetryPolicy(options),
    env(clock, { emit: (e: RetryEvent) => events.push(e), ...extra }),
  ).then(
    (v) => ({ ok: true as const, v }),
    (e) => ({ ok: false as const, e }),
  );
  await clock.runAll();
  const out = await p;
  const sleeps = events.filter((e) => e.type === 'retry').map((e) => (e as any).delayMs as number);
  return { out, attempts, sleeps, events, elapsed: clock.now() };
}

const failing = (attempt: number) => {
  throw Object.assign(new Error(`fail ${attempt}`), { attempt });
};

describe('backoff formulas (jitter 0)', () => {
  const waits = (algorithm: any, n = 6, wait = 100, maxWait = 60_000) =>
    Array.from({ length: n }, (_, i) => computeWait({ algorithm, wait, maxWait, jitter: 0 }, i + 1));
  it('exponential w·2^(k−1)', () => expect(waits('exponential')).toEqual([100, 200, 400, 800, 1600, 3200]));
  it('linear w·k', () => expect(waits('linear')).toEqual([100, 200, 300, 400, 500, 600]));
  it('fibonacci w·fib(k)', () => expect(waits('fibonacci')).toEqual([100, 100, 200, 300, 500, 800]));
  it('constant w', () => expect(waits('constant')).toEqual([100, 100, 100, 100, 100, 100]));
  it('caps at retryMaxWait before jitter', () => expect(waits('exponential', 6, 100, 500)).toEqual([100, 200, 400, 500, 500, 500]));
  it('decorrelated stays between w and 3× the previous wait, capped', () => {
    const random = seededRandom(3);
    let prev = 100;
    for (let k = 1; k < 50; k++) {
      const w = computeWait({ algorithm: 'decorrelated', wait: 100, maxWait: 5000, jitter: 1 }, k, random, prev);
      expect(w).toBeGreaterThanOrEqual(100);
      expect(w).toBeLessThanOrEqual(Math.min(5000, 3 * prev));
      prev = w;
    }
  });
  it('seeded jitter j keeps the wait within [c·(1−j), c]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (k, j, seed) => {
        const c = Math.min(100 * 2 ** (k - 1), 60_000);
        const w = computeWait({ algorithm: 'exponential', wait: 100, maxWait: 60_000, jitter: j }, k, seededRandom(seed));
        return w >= c * (1 - j) - 1e-9 && w <= c + 1e-9;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('executeWithRetry', () => {
  it('succeeds after k attempts and sleeps the golden sequence', async () => {
    const { out, attempts, sleeps, events } = await drive({ numRetries: 5, retryWait: 100, retryJitter: 0 }, (a) => (a < 4 ? failing(a) : 'ok'));
    expect(out).toEqual({ ok: true, v: 'ok' });
    expect(attempts).toBe(4);
    expect(sleeps).toEqual([100, 200, 400]);
    expect(events.at(-1)).toEqual({ type: 'retry-success', methodName: 'm', attempts: 4 });
  });

  it('exhausted on errors rethrows the last error unchanged', async () => {
    const { out, attempts } = await drive({ numRetries: 2, retryWait: 10, retryJitter: 0 }, failing);
    expect(attempts).toBe(3);
    expect(out.ok).toBe(false);
    expect((out as any).e.message).toBe('fail 3');
    expect((out as any).e.attempt).toBe(3);
  });

  it('retryOn filters by class (also a re-created class of the same name) and by predicate', async () => {
    class RateLimited extends Error {}
    const Recreated = class RateLimited extends Error {};
    const byClass = await drive({ numRetries: 3, retryWait: 1, retryOn: RateLimited }, (a) => {
      if (a < 3) throw new Recreated('again');
      throw new TypeError('fatal');
    });
    expect(byClass.attempts).toBe(3);
    expect((byClass.out as any).e).toBeInstanceOf(TypeError);
    const byPredicate = await drive({ numRetries: 3, retryWait: 1, retryOn: (ctx) => (ctx.error as any).attempt === 1 }, failing);
    expect(byPredicate.attempts).toBe(2);
    const throwing = await drive({ numRetries: 3, retryWait: 1, retryOn: () => { throw new Error('bad predicate'); } }, failing);
    expect(throwing.attempts).toBe(1);
  });

  it('validators run with 0 retries and fail with RetryValidationError', async () => {
    const { out, attempts } = await drive({ retryUntil: (r: number) => r > 10 || `too small: ${r}` }, () => 3);
    expect(attempts).toBe(1);
    const e = (out as any).e as RetryValidationError;
    expect(e).toBeInstanceOf(RetryValidationError);
    expect(e.attempts).toBe(1);
    expect(e.allResults).toEqual([3]);
    expect(e.validationErrors).toEqual(['too small: 3']);
    expect(e.methodName).toBe('m');
    expect(e.message).toMatch(/m: output failed validation on all 1 attempt\(s\); last reason: too small: 3/);
  });

  it('all validators must pass; async and throwing validators; reasons reach the next attempt', async () => {
    const seen: string[][] = [];
    const clock = new FakeClock();
    const p = executeWithRetry(
      (ctx) => {
        seen.push([...ctx.validationErrors]);
        return ctx.attempt;
      },
      resolveRetryPolicy({
        numRetries: 3,
        retryWait: 1,
        retryUntil: [async (r: number) => r >= 2 || 'need 2', function mustBeOdd(r: number) {
          if (r % 2 === 0) throw new Error('even');
          return true;
        }],
      }),
      env(clock),
    );
    await clock.runAll();
    expect(await p).toBe(3);
    expect(seen).toEqual([[], ['need 2'], ['need 2', "Validator 'mustBeOdd' raised: even"]]);
  });

  it('an error, then invalid outputs: the validation history holds only the outputs', async () => {
    const { out } = await drive({ numRetries: 2, retryWait: 1, retryUntil: () => false }, (a) => (a === 1 ? failing(a) : `out${a}`));
    const e = (out as any).e as RetryValidationError;
    expect(e.attempts).toBe(3);
    expect(e.allResults).toEqual(['out2', 'out3']);
  });

  it('server pushback makes the next wait at least Retry-After, in every form', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs({ retryAfterMs: 1234 })).toBe(1234);
    expect(retryAfterMs({ headers: { 'Retry-After': '3' } })).toBe(3000);
    expect(retryAfterMs({ response: { headers: new Headers({ 'retry-after': '2.5' }) } })).toBe(2500);
    expect(retryAfterMs({ headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' } }, now)).toBe(7000);
    expect(retryAfterMs({ headers: {} })).toBeUndefined();
    const { sleeps } = await drive({ numRetries: 1, retryWait: 10, retryJitter: 0 }, (a) => {
      if (a === 1) throw Object.assign(new Error('429'), { status: 429, headers: { 'retry-after': '5' } });
      return 'ok';
    });
    expect(sleeps).toEqual([5000]);
  });

  it('never starts a sleep that would end past retryTimeout', async () => {
    const { attempts, elapsed } = await drive({ numRetries: 10, retryWait: 100, retryJitter: 0, retryTimeout: 1000 }, failing);
    // sleeps 100, 200, 400 (total 700); the next (800) would end at 1500 > 1000
    expect(attempts).toBe(4);
    expect(elapsed).toBe(700);
  });

  it('an aborted signal stops retrying at once', async () => {
    const controller = new AbortController();
    const clock = new FakeClock();
    const p = executeWithRetry((ctx) => failing(ctx.attempt), resolveRetryPolicy({ numRetries: 5, retryWait: 1000 }), env(clock, { signal: controller.signal })).catch((e) => e);
    await clock.advance(10);
    controller.abort(new Error('stop now'));
    expect((await p).message).toBe('stop now');
  });

  it('properties: attempts ≤ numRetries+1, waits ≤ retryMaxWait, sleeps within retryTimeout, retryOn false → 1 attempt', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom('exponential', 'linear', 'fibonacci', 'constant', 'decorrelated'),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
        fc.integer({ min: 1, max: 8 }),
        async (numRetries, retryAlgorithm, retryWait, retryMaxWait, retryJitter, retryTimeout, succeedAt) => {
          const { attempts, sleeps, elapsed } = await drive(
            { numRetries, retryAlgorithm: retryAlgorithm as any, retryWait, retryMaxWait, retryJitter, retryTimeout },
            (a) => (a >= succeedAt ? 'ok' : failing(a)),
          );
          expect(attempts).toBeLessThanOrEqual(numRetries + 1);
          for (const s of sleeps) expect(s).toBeLessThanOrEqual(retryMaxWait + 1e-9);
          if (retryTimeout !== undefined) expect(elapsed).toBeLessThanOrEqual(retryTimeout);
          const never = await drive({ numRetries, retryWait, retryOn: () => false }, failing);
          expect(never.attempts).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('retry budget', () => {
  it('at 100% failure, ratio 0.1 keeps attempts ≤ 1.1 per call (4.0 without)', async () => {
    const run = async (budget?: RetryBudget) => {
      const clock = new FakeClock();
      let attempts = 0;
      const policy = resolveRetryPolicy({ numRetries: 3, retryWait: 1, retryJitter: 0 });
      for (let i = 0; i < 1000; i++) {
        const p = executeWithRetry(
          () => {
            attempts++;
            throw new Error('down');
          },
          policy,
          env(clock, { budget }),
        ).catch(() => undefined);
        await clock.runAll();
        await p;
      }
      return attempts / 1000;
    };
    const clock = new FakeClock();
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 0 }, clock);
    expect(await run(budget)).toBeLessThanOrEqual(1.1);
    expect(budget.denied).toBeGreaterThan(0);
    expect(await run()).toBe(4);
  });
});

describe('ready predicates', () => {
  const t = (error: unknown) => transientErrors({ error });
  it('transientErrors accepts network codes, causes and retryable statuses; rejects client errors', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']) expect(t(Object.assign(new Error(), { code }))).toBe(true);
    expect(t(new Error('fetch failed', { cause: Object.assign(new Error(), { code: 'ECONNRESET' }) }))).toBe(true);
    for (const status of [408, 425, 429, 500, 502, 503, 504]) expect(t({ status })).toBe(true);
    expect(t({ statusCode: 503 })).toBe(true);
    expect(t({ response: { status: 502 } })).toBe(true);
    for (const status of [400, 401, 403, 404, 422]) expect(t({ status })).toBe(false);
    expect(t(new RetryValidationError({ attempts: 1, allResults: [], validationErrors: [], methodName: 'm' }))).toBe(false);
  });
  it('rateLimitErrors accepts 429 and throttling names/messages', () => {
    expect(rateLimitErrors({ error: { status: 429 } })).toBe(true);
    expect(rateLimitErrors({ error: new Error('Rate limit exceeded') })).toBe(true);
    expect(rateLimitErrors({ error: Object.assign(new Error('x'), { name: 'ThrottlingException' }) })).toBe(true);
    expect(rateLimitErrors({ error: { status: 503 } })).toBe(false);
  });
  it("rateLimitErrors does not take concurry's own LimitUsageError (worded '…for rate limit(s)…') for a server's throttling", () => {
    expect(rateLimitErrors({ error: new LimitUsageError('Acquisition released without update() for rate limit(s): tokens') })).toBe(false);
  });
});

describe('standalone retry()', () => {
  it('wraps a function with the same engine', async () => {
    let n = 0;
    const clock = new FakeClock();
    const f = retry(async (x: number) => (++n < 3 ? Promise.reject(new Error('flaky')) : x * 2), { numRetries: 3, retryWait: 10, clock });
    const p = f(21);
    await clock.runAll();
    expect(await p).toBe(42);
    expect(n).toBe(3);
  });

  it('@retry decorates a method and keeps `this`', async () => {
    // Applied by hand: vitest's transformer does not lower decorator syntax (tsc and tsx do);
    // the call below is exactly what `@retry({...})` compiles to for a TS 5 method decorator.
    class Client {
      calls = 0;
      async get(): Promise<string> {
        if (++this.calls < 3) throw new Error('again');
        return `done after ${this.calls}`;
      }
    }
    const decorate = retry({ numRetries: 2, retryWait: 0 });
    Client.prototype.get = decorate(Client.prototype.get, { name: 'get', kind: 'method' } as ClassMethodDecoratorContext);
    expect(await new Client().get()).toBe('done after 3');
  });
});

describe('options checking', () => {
  const methods = ['complete', 'count'];
  it('rejects bad values with the option, the value and what is allowed', () => {
    expect(() => resolveRetryPolicies({ numRetries: -1 }, methods)).toThrow(/Invalid option 'numRetries': got -1; expected an integer >= 0/);
    expect(() => resolveRetryPolicies({ retryJitter: 2 }, methods)).toThrow(/'retryJitter': got 2; expected a number from 0 to 1/);
    expect(() => resolveRetryPolicies({ retryAlgorithm: 'expo' as any }, methods)).toThrow(/'retryAlgorithm': got "expo"/);
    expect(() => resolveRetryPolicies({ retryWait: NaN }, methods)).toThrow(ConfigError);
    expect(() => resolveRetryPolicies({ retryOn: [42 as any] }, methods)).toThrow(/retryOn/);
    expect(() => resolveRetryPolicies({ retryBudget: { ratio: -1 } }, methods)).toThrow(/retryBudget.ratio/);
  });
  it("per-method records need known method names; without '*' the others get the option's default", () => {
    const withoutDefault = resolveRetryPolicies({ numRetries: { complete: 3 }, retryWait: { complete: 5 } }, methods);
    expect(withoutDefault('complete')).toMatchObject({ numRetries: 3, wait: 5 });
    expect(withoutDefault('count')).toBeUndefined(); // numRetries 0, no validators: the fast path
    expect(() => resolveRetryPolicies({ numRetries: { '*': 0, compelte: 3 } }, methods)).toThrow(/unknown method 'compelte' — did you mean 'complete'\?/);
    const lookup = resolveRetryPolicies({ numRetries: { '*': 0, complete: 3 } }, methods);
    expect(lookup('complete')!.numRetries).toBe(3);
    expect(lookup('count')).toBeUndefined();
  });
});
