/**
 * Real openai SDK errors across threads and processes (issue 18, item 4): RateLimitError,
 * InternalServerError and APIConnectionError keep `instanceof`, status, headers, code and
 * requestID on the caller's side; retries see them; zod validates the outputs.
 */
import { APIConnectionError, APIError, InternalServerError, RateLimitError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { LimitSet, RateLimit, rateLimitErrors, transientErrors, type Mode, type RuntimeEvent } from '../../src/index.js';
import { startProvider, type Provider } from '../../examples/llm/provider.js';
import { OpenAIClassifier } from '../fixtures/openai-workers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function provider(options: Parameters<typeof startProvider>[0]): Promise<Provider> {
  const p = await startProvider({ latency: 5, ...options });
  cleanups.push(() => p.close());
  return p;
}

function classifier(mode: Mode, baseURL: string, options: Record<string, unknown> = {}) {
  const limits = new LimitSet([new RateLimit({ key: 'tokens', window: 'minute', capacity: 100_000 })]);
  const w = OpenAIClassifier.options({ mode, limits, ...options }).init(baseURL);
  cleanups.push(() => w.stop());
  return w;
}

/**
 * A retryUntil validator: the output must be JSON matching the schema; the reason names what broke.
 * Self-contained (it runs in the worker, sent as source): it imports zod itself.
 */
const matchesSchema = async (out: string): Promise<true | string> => {
  const { z } = await import('zod');
  const Answer = z.object({ sentiment: z.enum(['positive', 'negative', 'neutral']), confidence: z.number().min(0).max(1), summary: z.string() });
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    return 'output is not JSON';
  }
  const parsed = Answer.safeParse(json);
  return parsed.success || `output breaks the schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
};

describe.each(['thread', 'process'] as Mode[])('%s mode', (mode) => {
  it('a 429 comes back as the SDK\'s RateLimitError with status, headers, code and requestID', async () => {
    const p = await provider({ rpm: 1, minuteMs: 60_000 });
    const w = classifier(mode, `${p.url}/v1`);
    expect(await matchesSchema(await w.complete('great product'))).toBe(true);
    const e = (await w.complete('awful product').exception()) as RateLimitError;
    expect(e).toBeInstanceOf(RateLimitError);
    expect(e).toBeInstanceOf(APIError);
    expect(e.status).toBe(429);
    expect(e.code).toBe('rate_limit_exceeded');
    expect(e.requestID).toMatch(/^req_\d+$/);
    expect(e.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Number(e.headers.get('retry-after-ms'))).toBeGreaterThan(0);
    expect(e.message).toMatch(/^429 Rate limit reached for requests per min/);
    expect(rateLimitErrors({ error: e })).toBe(true);
  });

  it('a 503 is an InternalServerError; a refused connection is an APIConnectionError', async () => {
    const p = await provider({ failRate: 1 });
    const w = classifier(mode, `${p.url}/v1`);
    const e = (await w.complete('anything').exception()) as InternalServerError;
    expect(e).toBeInstanceOf(InternalServerError);
    expect(e.status).toBe(503);
    expect(transientErrors({ error: e })).toBe(true);

    const closed = await provider({});
    const url = `${closed.url}/v1`;
    await closed.close();
    const offline = classifier(mode, url);
    const c = (await offline.complete('anything').exception()) as APIConnectionError;
    expect(c).toBeInstanceOf(APIConnectionError);
    expect(c.status).toBeUndefined();
    expect(transientErrors({ error: c })).toBe(true);
  });
});

describe('the real openai client in a thread worker, retried by concurry', () => {
  it('a 429 is retried after its Retry-After, then succeeds', async () => {
    const p = await provider({ rpm: 2, minuteMs: 400 });
    const w = classifier('thread', `${p.url}/v1`, { numRetries: 3, retryOn: rateLimitErrors, retryWait: 1, retryJitter: 0 });
    const retries: RuntimeEvent[] = [];
    w.on('retry', (e) => retries.push(e));
    const outs = await Promise.all(['one fine day', 'two bad days', 'three days'].map((t) => w.complete(t)));
    for (const out of outs) expect(await matchesSchema(out)).toBe(true);
    expect(retries.length).toBeGreaterThanOrEqual(1);
    for (const r of retries) {
      expect(r).toMatchObject({ methodName: 'complete', error: { status: 429 } });
      expect((r as any).delayMs).toBeGreaterThanOrEqual(100); // the provider's retry-after-ms, not retryWait: 1
    }
    expect(w.stats().methods.complete).toMatchObject({ calls: 3, successes: 3, failures: 0 });
  });

  it('outputs are validated with zod in the worker; malformed ones are retried, and the last error keeps its kind', async () => {
    const good = await provider({ malformedRate: 0 });
    const ok = classifier('thread', `${good.url}/v1`);
    expect(await ok.classify('a lovely day')).toMatchObject({ sentiment: expect.stringMatching(/^(positive|negative|neutral)$/), summary: expect.any(String) });

    const bad = await provider({ malformedRate: 1, seed: 7 });
    const isMalformed = (ctx: { error: unknown }) => ['SyntaxError', 'ZodError'].includes((ctx.error as Error).name);
    const w = classifier('thread', `${bad.url}/v1`, { numRetries: 2, retryWait: 1, retryOn: isMalformed });
    const e = (await w.classify('a mixed review').exception()) as Error & { issues?: unknown[] };
    expect(['SyntaxError', 'ZodError']).toContain(e.name);
    if (e.name === 'ZodError') expect(e.issues!.length).toBeGreaterThan(0);
    expect(w.stats().methods.classify).toMatchObject({ attempts: 3, retries: 2, failures: 1 });
    expect(bad.stats().malformed + bad.stats().schemaViolations).toBe(3);
  });
});
