/**
 * The docs' limit pattern on an error path (issue 18): a 429 thrown before `acq.update()` must reach
 * retries and the caller as itself — never as a SuppressedError or a LimitUsageError — and every
 * limit comes back, in every mode. A missing update on the success path still fails loudly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LimitSet, LimitUsageError, RateLimit, ResourceLimit, rateLimitErrors, type Mode, type RuntimeEvent } from '../../src/index.js';
import { ModelCaller } from '../fixtures/limit-usage-workers.js';

const handles: { stop(): Promise<void> }[] = [];
const track = <H extends { stop(): Promise<void> }>(h: H): H => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

/** Token bucket refilling over a day: what the calls used stays visible in `available` for the test's duration. */
const newLimits = () =>
  new LimitSet([new RateLimit({ key: 'tokens', window: 'day', capacity: 1000, algorithm: 'token-bucket' }), new ResourceLimit({ key: 'conns', capacity: 1 })]);

const retryOptions = { numRetries: 3, retryOn: rateLimitErrors, retryWait: 1, retryJitter: 0 } as const;

describe.each(['sync', 'async', 'thread', 'process'] as Mode[])('%s mode: a 429 before update()', (mode) => {
  it.each(['withUsing', 'withRelease'] as const)('%s: the 429 itself is retried (Retry-After honoured) and every limit comes back', async (method) => {
    const limits = newLimits();
    const w = track(ModelCaller.options({ mode, limits, ...retryOptions }).init());
    const retries: RuntimeEvent[] = [];
    w.on('retry', (e) => retries.push(e));
    expect(await w[method](3, 0.05)).toBe('ok after 3');
    expect(retries).toHaveLength(2);
    for (const e of retries) {
      expect(e).toMatchObject({ type: 'retry', methodName: method, error: { status: 429, message: '429 Too Many Requests' } });
      expect((e as any).delayMs).toBeGreaterThanOrEqual(50); // Retry-After: 0.05 s beats retryWait: 1 ms
    }
    expect(w.stats().methods[method]).toMatchObject({ calls: 1, attempts: 3, retries: 2, successes: 1, failures: 0 });
    // Failed attempts count what they requested (10 each); the successful one reported 4.
    expect(limits.stats()).toMatchObject({ tokens: { available: 1000 - 24 }, conns: { held: 0 }, waiting: 0 });
  });

  it.each(['withUsing', 'withRelease'] as const)('%s: retries exhausted, the caller gets the 429 (not a SuppressedError)', async (method) => {
    const limits = newLimits();
    const w = track(ModelCaller.options({ mode, limits, ...retryOptions, numRetries: 1 }).init());
    const e = (await w[method](99, 0).exception()) as Error & { status?: number };
    expect(e).not.toBeInstanceOf(LimitUsageError);
    expect(e.name).toBe('Error');
    expect(e.message).toBe('429 Too Many Requests');
    expect(e.status).toBe(429);
    expect(limits.stats()).toMatchObject({ tokens: { available: 1000 - 20 }, conns: { held: 0 }, waiting: 0 });
  });

  it.each(['using', 'release'] as const)('a block that completes without update() still fails with LimitUsageError (%s)', async (form) => {
    const limits = newLimits();
    const w = track(ModelCaller.options({ mode, limits, ...retryOptions }).init());
    const e = await w.forgetsUpdate(form).exception();
    expect(e).toBeInstanceOf(LimitUsageError);
    expect((e as Error).message).toMatch(/^Acquisition released without update\(\) for rate limit\(s\): tokens — call acq\.update\(\{ tokens: used \}\)/);
    expect(limits.stats()).toMatchObject({ tokens: { available: 990 }, conns: { held: 0 }, waiting: 0 });
    expect(await w.withUsing(1, 0)).toBe('ok after 1'); // nothing left held
  });

  it('acquire() with no amounts on a set holding a RateLimit is refused, naming it', async () => {
    const w = track(ModelCaller.options({ mode, limits: newLimits() }).init());
    const e = await w.acquireNothing().exception();
    expect(e).toBeInstanceOf(LimitUsageError);
    expect((e as Error).message).toBe(
      "acquire(): no amounts given, but this set holds RateLimit 'tokens'; name the amount to take, e.g. acquire({ tokens: n }) (a RateLimit is never bypassed silently)",
    );
  });

  it('await this.limits.tryAcquire() and await this.limits.stats() work and see the caller\'s counters', async () => {
    const limits = newLimits();
    const w = track(ModelCaller.options({ mode, limits }).init());
    const first = await w.peek();
    expect(first.got).toBe(true);
    expect(first.stats).toMatchObject({ conns: { held: 1 }, waiting: 0 });
    const mine = limits.tryAcquire({ tokens: 1 })!; // holds the only connection
    expect((await w.peek()).got).toBe(false);
    mine.update({ tokens: 1 }).release();
    expect(limits.stats()).toMatchObject({ conns: { held: 0 }, waiting: 0 });
  });
});
