/**
 * The demo (`npm run demo`) run as a user runs it, judged by its JSON summary; its flag handling;
 * and the simulated provider it runs against, over real HTTP.
 */
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitErrors, retryAfterMs, transientErrors } from '../src/index.js';
import { USAGE, UsageError, parseFlags, type DemoSummary } from '../examples/demo.js';
import { ProviderError, validAnswer, type Completion } from '../examples/llm/client.js';
import { COMPLETIONS_PATH, COUNT_TOKENS_PATH, buildMessages, chargedTokens, countTokens, makeTasks, promptTokens, type ChatResponse, type ErrorBody } from '../examples/llm/protocol.js';
import { startProvider, type Provider, type ProviderOptions } from '../examples/llm/provider.js';
import { startProviderThread } from '../examples/llm/provider-thread.js';

const root = new URL('..', import.meta.url).pathname;

function runDemo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'examples/demo.ts', ...args],
      { cwd: root, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run demo', () => {
  it('finishes a batch in thread mode: every call succeeds, bad outputs are repaired, 503s retried, no 429s', async () => {
    // 40 calls ≈ 50 requests ≈ 10k tokens at 4500 tokens per 2 s window: tokens are the binding
    // limit and the provider's windows roll over twice. The margin is wider than the demo's: the
    // rest of the suite may be loading the machine, and a request delayed on its way by more than
    // the margin can meet a 429. It is still small enough that miscounted tokens would show.
    const { code, stdout, stderr } = await runDemo(['--n', '40', '--rpm', '25', '--tpm', '4500', '--minute-ms', '2000', '--margin-ms', '200', '--json']);
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    const s = JSON.parse(stdout) as DemoSummary;
    expect(s.options.mode).toBe('thread');
    expect(s.options.workers).toBe(4);
    expect(s.calls).toBe(40);
    expect(s.succeeded).toBe(40);
    expect(s.failed).toBe(0);

    // Every bad output the provider served was caught by the validator and retried, and the
    // feedback repaired it: with 10% malformed outputs over 40 calls (seeded), there are some.
    const bad = s.provider.malformed + s.provider.schemaViolations;
    expect(bad).toBeGreaterThan(0);
    expect(s.retries.validation).toBe(bad);
    expect(s.repaired).toBeGreaterThan(0);
    expect(s.provider.repaired).toBeGreaterThanOrEqual(s.repaired);
    expect(s.sample?.feedback).toBeGreaterThan(0);
    expect(() => JSON.parse(s.sample!.text)).not.toThrow();

    // Every 503 was retried.
    expect(s.provider.serverErrors).toBeGreaterThan(0);
    expect(s.retries.serverError).toBe(s.provider.serverErrors);

    // Limits matching the provider's: it never had to push back, and every attempt counted.
    expect(s.provider.rateLimited).toBe(0);
    expect(s.retries.rateLimited).toBe(0);
    expect(s.attempts).toBe(s.provider.accepted);
    expect(s.attempts).toBe(s.calls + s.retries.total);
    // ... and the limits were used, not just respected: a window was (nearly) full of tokens.
    expect(s.provider.peakTokensInWindow).toBeGreaterThan(4500 * 0.9);

    // Elapsed near the bound the limits set (generous: the machine is shared).
    expect(s.boundMs).toBeGreaterThan(4000);
    expect(s.elapsedMs).toBeLessThan(s.boundMs * 1.5 + 2000);
  }, 60_000);

  it('without client-side limits the provider answers 429 with Retry-After, and those are retried', async () => {
    const { code, stdout } = await runDemo(['--n', '60', '--rpm', '40', '--minute-ms', '1000', '--mode', 'async', '--unlimited', '--json']);
    const s = JSON.parse(stdout) as DemoSummary;
    expect(code).toBe(s.failed === 0 ? 0 : 1);
    expect(s.options.mode).toBe('async');
    expect(s.provider.rateLimited).toBeGreaterThan(10);
    // Every 429 was retried, except where it ended a call that ran out of retries.
    expect(s.retries.rateLimited).toBeGreaterThanOrEqual(s.provider.rateLimited - s.failed);
    expect(s.succeeded + s.failed).toBe(60);
    for (const f of s.failures) expect(f).toMatch(/^(ProviderError: (429|503) |RetryValidationError)/);
  }, 60_000);

  it('prints the usage with --help and exits 0', async () => {
    const { code, stdout } = await runDemo(['--help']);
    expect(code).toBe(0);
    expect(stdout).toBe(USAGE);
  }, 30_000);

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--n', 'many'], /--n must be a whole number, got 'many'/],
  ])('exits 2 with the reason and the usage on stderr: %j', async (args, reason) => {
    const { code, stdout, stderr } = await runDemo(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(reason);
    expect(stderr).toContain(USAGE);
  }, 30_000);
});

describe('demo flags', () => {
  it('has defaults for everything', () => {
    expect(parseFlags([])).toMatchObject({ n: 500, mode: 'thread', workers: 4, rpm: 80, tpm: 16_000, failRate: 0.1, marginMs: 30, json: false, help: false });
    expect(parseFlags(['--n', '20', '--mode', 'process', '--workers', '2', '--rpm', '100', '--fail-rate', '0.25', '--json'])).toMatchObject({
      n: 20,
      mode: 'process',
      workers: 2,
      rpm: 100,
      tpm: 20_000,
      failRate: 0.25,
      json: true,
    });
  });

  it.each([
    [['--n', '0'], /--n must be from 1 to 100000, got 0/],
    [['--n', '2.5'], /--n must be a whole number, got '2.5'/],
    [['--n', ''], /--n must be a whole number, got ''/],
    [['--workers', '65'], /--workers must be from 1 to 64, got 65/],
    [['--rpm=-5'], /--rpm must be from 1 to 10000000, got -5/],
    [['--fail-rate', 'often'], /--fail-rate must be a number, got 'often'/],
    [['--fail-rate', '1'], /--fail-rate must be from 0 to 0.9, got 1/],
    [['--mode', 'fibers'], /--mode must be one of sync, async, thread, process, got 'fibers'/],
    [['--json=yes'], /--json/],
    [['--n'], /--n/],
    [['500'], /positional/i],
  ])('rejects %j', (args, message) => {
    expect(() => parseFlags(args)).toThrow(UsageError);
    expect(() => parseFlags(args)).toThrow(message);
  });
});

describe('simulated provider', () => {
  const providers: Provider[] = [];
  const start = async (options: ProviderOptions) => {
    const p = await startProvider({ latency: 0, ...options });
    providers.push(p);
    return p;
  };
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
  });
  const post = (p: Provider, body: unknown) =>
    fetch(p.url + COMPLETIONS_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const request = (task: string, maxTokens = 50, errors: string[] = []) => ({ model: 'sim-1', messages: buildMessages(task, errors), max_tokens: maxTokens });

  it('answers 429 with Retry-After and a JSON body once a window holds rpm requests, and serves again when a slot frees', async () => {
    const p = await start({ rpm: 3, tpm: 1_000_000, minuteMs: 600 });
    const [task] = makeTasks(1);
    for (let i = 0; i < 3; i++) {
      expect((await post(p, request(task!))).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100)); // spaced, so each frees its slot at a distinct time
    }
    const res = await post(p, request(task!));
    expect(res.status).toBe(429);
    const seconds = Number(res.headers.get('retry-after'));
    expect(Number.isInteger(seconds) && seconds >= 1).toBe(true);
    const waitMs = Number(res.headers.get('retry-after-ms'));
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(600 - 100); // when the second request leaves the window: this one counts too
    // The client's view of the response: the JSON error body, retryable, and the wait it asks for.
    const err = await ProviderError.from(res);
    expect(err.status).toBe(429);
    expect(err.type).toBe('requests');
    expect(err.message).toMatch(/^429 Rate limit reached for requests per min: Limit 3, Used 3, Requested 1/);
    expect(err.retryAfterMs).toBe(waitMs);
    expect(rateLimitErrors({ error: err })).toBe(true);
    expect(transientErrors({ error: err })).toBe(true);
    expect(retryAfterMs(err)).toBe(waitMs);

    // A rejected request counts too: asking again at once is refused, with a later slot.
    const again = await post(p, request(task!));
    expect(again.status).toBe(429);
    const laterWaitMs = Number(again.headers.get('retry-after-ms'));
    expect(laterWaitMs).toBeGreaterThan(waitMs);

    await new Promise((r) => setTimeout(r, laterWaitMs + 5));
    expect((await post(p, request(task!))).status).toBe(200);
    expect(p.stats()).toMatchObject({ requests: 6, accepted: 4, succeeded: 4, rateLimited: 2, rateLimitedBy: { requests: 2, tokens: 0 }, peakRequestsInWindow: 5 });
  });

  it('charges prompt + max_tokens against TPM on arrival and reports real usage', async () => {
    const p = await start({ rpm: 1000, tpm: 1000, minuteMs: 60_000 });
    const [a, b] = makeTasks(2);
    const first = request(a!, 300);
    const res = await post(p, first);
    expect(res.status).toBe(200);
    const out = (await res.json()) as ChatResponse;
    const prompt = promptTokens(first.messages);
    const content = out.choices[0]!.message.content;
    expect(out.usage).toEqual({ prompt_tokens: prompt, completion_tokens: countTokens(content), total_tokens: prompt + countTokens(content) });
    expect(out.usage.total_tokens).toBeLessThan(chargedTokens(first));
    expect(Number(res.headers.get('x-ratelimit-remaining-tokens'))).toBe(1000 - chargedTokens(first));

    // The second charge still fits; a third does not, although far below the request limit.
    expect((await post(p, request(b!, 300))).status).toBe(200);
    const over = await post(p, request(a!, 300));
    expect(over.status).toBe(429);
    expect(((await over.json()) as ErrorBody).error.type).toBe('tokens');
    // A request that could never fit is a client error, not something to retry.
    const never = await post(p, request(a!, 2000));
    expect(never.status).toBe(400);

    const s = p.stats();
    expect(s.tokensCharged).toBe(chargedTokens(first) + chargedTokens(request(b!, 300)));
    expect(s).toMatchObject({ accepted: 2, rateLimited: 1, rateLimitedBy: { requests: 0, tokens: 1 }, badRequests: 1 });
    expect(s.tokensUsed).toBeLessThan(s.tokensCharged);
  });

  it('fails with 503 at failRate, and malformed outputs are repaired when the prompt names the problem', async () => {
    const failing = await start({ failRate: 1 });
    const res = await post(failing, request('anything'));
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorBody).error.type).toBe('server_error');

    const p = await start({ malformedRate: 1 });
    const reasons: string[] = [];
    for (const task of makeTasks(5)) {
      const bad = (await (await post(p, request(task))).json()) as ChatResponse;
      const reason = await validAnswer({ text: bad.choices[0]!.message.content } as Completion);
      expect(reason).toEqual(expect.any(String));
      reasons.push(reason as string);
      const fixed = (await (await post(p, request(task, 50, [reason as string]))).json()) as ChatResponse;
      expect(await validAnswer({ text: fixed.choices[0]!.message.content } as Completion)).toBe(true);
    }
    expect(reasons.join('\n')).toMatch(/not valid JSON|confidence|sentiment/);
    expect(p.stats().repaired).toBe(5);
    expect(p.stats().malformed + p.stats().schemaViolations).toBe(5);
  });

  it('is deterministic for a seed, whatever the order requests arrive in', async () => {
    const tasks = makeTasks(20);
    const outputs = async (seed: number, order: string[]) => {
      const p = await start({ seed, failRate: 0.3, malformedRate: 0.3 });
      const byTask = new Map<string, string>();
      for (const task of order) {
        const res = await post(p, request(task));
        byTask.set(task, res.status === 200 ? ((await res.json()) as ChatResponse).choices[0]!.message.content : String(res.status));
      }
      return tasks.map((t) => byTask.get(t));
    };
    const forward = await outputs(7, tasks);
    expect(await outputs(7, [...tasks].reverse())).toEqual(forward);
    expect(await outputs(8, tasks)).not.toEqual(forward);
  });

  it('counts tokens for free: the warm-up endpoint is not held against the completion limits', async () => {
    const p = await start({ rpm: 1, tpm: 1000, minuteMs: 60_000 });
    const messages = buildMessages('a short task', []);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(p.url + COUNT_TOKENS_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim-1', messages }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ input_tokens: promptTokens(messages) });
    }
    const bad = await fetch(p.url + COUNT_TOKENS_PATH, { method: 'POST', body: '{"model":"sim-1"}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.message).toMatch(/'messages' must be a non-empty array/);
    expect((await post(p, request('a short task'))).status).toBe(200); // the one request of the minute is still free
    expect(p.stats()).toMatchObject({ requests: 1, accepted: 1, badRequests: 1, peakRequestsInWindow: 1 });
  });
});

describe('simulated provider on its own thread', () => {
  it('serves the same API, reports stats and bound, takes new limits, and ends its thread on close', async () => {
    const p = await startProviderThread({ rpm: 2, tpm: 1_000_000, minuteMs: 60_000, latency: 0 });
    try {
      expect(p.options).toMatchObject({ rpm: 2, minuteMs: 60_000 });
      const post = () => fetch(p.url + COMPLETIONS_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim-1', messages: buildMessages('task', []), max_tokens: 10 }) });
      expect((await post()).status).toBe(200);
      await p.setLimits({ rpm: 1 });
      expect((await post()).status).toBe(429);
      expect(await p.stats()).toMatchObject({ requests: 2, accepted: 1, rateLimited: 1 });
      expect(await p.boundMs()).toBe(60_000); // 1 accepted ÷ the rpm now in force
    } finally {
      await p.close();
    }
    await expect(fetch(p.url + COMPLETIONS_PATH, { method: 'POST', body: '{}' })).rejects.toThrow();
    await expect(p.stats()).rejects.toThrow(/provider thread/);
  });
});
