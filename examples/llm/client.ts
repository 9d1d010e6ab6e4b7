/**
 * The client side of the demo: an `LLM` worker that calls the provider over HTTP, draws on the
 * pool's shared rate limits, turns error responses into errors the ready retry predicates
 * recognise, and feeds earlier validation failures back into its prompt; plus `validAnswer`, the
 * zod check used as `retryUntil`.
 */
import { z } from 'zod';
import { CallLimit, RateLimit, Worker, adaptiveUsage, rateLimitErrors, transientErrors } from '../../src/index.js';
import { COMPLETIONS_PATH, COUNT_TOKENS_PATH, DEFAULT_MAX_TOKENS, buildMessages, chargedTokens, type ChatRequest, type ChatResponse, type CountTokensRequest, type ErrorBody, type Usage } from './protocol.js';

/** An HTTP error from the provider; `status`, `headers` and `retryAfterMs` drive the retry predicates and the wait. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly status: number;
  readonly type: string | undefined;
  readonly headers: Record<string, string>;
  /** Set only when the provider said how long to wait (a retry-after-ms or Retry-After header). */
  declare readonly retryAfterMs?: number;

  constructor(status: number, message: string, type: string | undefined, headers: Record<string, string>) {
    super(message);
    this.status = status;
    this.type = type;
    this.headers = headers;
    const wait = retryAfterOf(headers);
    if (wait !== undefined) Object.defineProperty(this, 'retryAfterMs', { value: wait, enumerable: true });
  }

  static async from(res: Response): Promise<ProviderError> {
    const headers = Object.fromEntries(res.headers.entries());
    const text = await res.text().catch(() => '');
    let body: Partial<ErrorBody> | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return new ProviderError(res.status, `${res.status} ${body?.error?.message ?? (text.slice(0, 200) || res.statusText)}`, body?.error?.type, headers);
  }
}

/** The provider's wait hint in ms: the precise retry-after-ms if present, else Retry-After (seconds). */
export function retryAfterOf(headers: Record<string, string>): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms)) return ms;
  const seconds = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(seconds)) return seconds * 1000;
  return undefined;
}

/** What `complete()` returns: the raw output (checked by `validAnswer`) and how it was obtained. */
export interface Completion {
  text: string;
  usage: Usage;
  /** The attempt (1-based) that produced this output. */
  attempt: number;
  /** How many rejected outputs were fed back into this prompt (> 0: the output was repaired). */
  feedback: number;
}

export interface LLMOptions {
  model?: string;
  maxTokens?: number;
  /** Per-request timeout, ms; a timeout is a transient error and is retried. Default 10 000. */
  timeoutMs?: number;
  /** Connections to open before the first request: the calls this worker runs at once. Default 16. */
  connections?: number;
}

export class LLM extends Worker {
  // Thread and process workers import this module to rebuild the class.
  static module = import.meta.url;

  constructor(
    private readonly baseUrl: string,
    private readonly options: LLMOptions = {},
  ) {
    super();
    // Open the connections and run the request path once before the first completion, so the
    // first requests reach the provider when they were sent: a cold fetch (connection setup, a
    // POST path not compiled yet) delays them by tens of ms, and then the next window's requests
    // look early to the provider. The token-count endpoint is free; its answer is not needed.
    const warmUp: CountTokensRequest = { model: options.model ?? 'sim-1', messages: buildMessages('warm-up', []) };
    const connections = Array.from({ length: options.connections ?? 16 }, () => postJson(baseUrl + COUNT_TOKENS_PATH, warmUp, requestSignal(options.timeoutMs)));
    this.warm = Promise.all(connections).then(() => undefined, () => undefined);
  }

  private readonly warm: Promise<void>;

  /**
   * Resolves once this worker's connections are open. Call it on every worker before timing a
   * batch: the first completions then go out on a warm path instead of beside the warm-up.
   */
  async connect(): Promise<void> {
    await this.warm;
  }

  async complete(task: string): Promise<Completion> {
    // Read the context first: with overlapping calls it follows this call's async chain.
    const { validationErrors, attempt, signal } = this.context;
    await this.warm;
    const messages = buildMessages(task, validationErrors);
    const body: ChatRequest = { model: this.options.model ?? 'sim-1', messages, max_tokens: this.options.maxTokens ?? DEFAULT_MAX_TOKENS };
    // The provider charges prompt + max_tokens on arrival, so this estimate is exactly its charge.
    const estimate = chargedTokens(body);
    const acq = await this.limits.acquire({ requests: 1, tokens: estimate });
    let used = estimate;
    let error: unknown;
    try {
      const out = await requestCompletion(this.baseUrl, body, requestSignal(this.options.timeoutMs, signal));
      used = out.usage.total_tokens;
      return { text: out.choices[0]?.message.content ?? '', usage: out.usage, attempt, feedback: validationErrors.length };
    } catch (e) {
      error = e;
      throw e;
    } finally {
      acq.update((this.constructor as typeof LLM).usage(used, error));
      acq.release();
    }
  }

  /**
   * What to report to the limits before releasing: real usage, which a RateLimit insists on. With
   * the default sliding-window algorithm nothing is refunded (the provider keeps its charge too);
   * with token-bucket or GCRA the unused completion budget would flow back. Static: an instance
   * method would be a worker method, called through the runtime (with its retries and validator).
   */
  static usage(tokens: number, _error: unknown): Record<string, number> {
    return { requests: 1, tokens };
  }
}

/**
 * The client that is told nothing about the provider's limits: its pool's `limits` is an
 * AdaptiveLimit on 'requests', and each request reports how the provider answered instead of
 * what it used.
 */
export class AdaptiveLLM extends LLM {
  static override module = import.meta.url;

  static override usage(_tokens: number, error: unknown): Record<string, number> {
    return adaptiveUsage('requests', error);
  }
}

/** One HTTP request to the provider; an error response becomes a ProviderError. */
export function requestCompletion(baseUrl: string, body: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
  return postJson<ChatResponse>(baseUrl + COMPLETIONS_PATH, body, signal);
}

/** Aborts a request when its call is cancelled or after `timeoutMs` (default 10 000). */
function requestSignal(timeoutMs = 10_000, call?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return AbortSignal.any(call ? [call, timeout] : [timeout]);
}

/** POSTs JSON and parses the JSON answer; an error response becomes a ProviderError. */
async function postJson<T>(url: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  if (!res.ok) throw await ProviderError.from(res);
  return (await res.json()) as T;
}

/** The answer every output must parse to. */
export const AnswerSchema = z.object({
  sentiment: z.enum(['positive', 'negative', 'neutral']),
  confidence: z.number().min(0).max(1),
  summary: z.string().min(1).max(200),
});
export type Answer = z.infer<typeof AnswerSchema>;

/**
 * `retryUntil` validator: the output must be JSON matching the answer schema. The reason it returns
 * reaches the next attempt through `this.context.validationErrors`.
 *
 * It crosses to thread and process workers as source text, so it can't use `AnswerSchema` from
 * this module's scope: it imports zod itself and repeats the schema (keep the two in step), builds
 * it once per thread (kept on `globalThis`: importing and building cost far more than parsing),
 * and declares no inner named functions (tsx wraps those in a `__name` helper that doesn't exist
 * on the other side). The module's static zod import means zod is already loaded when it runs.
 */
export async function validAnswer(out: Completion): Promise<true | string> {
  const cache = globalThis as { [key: symbol]: typeof AnswerSchema | undefined };
  const key = Symbol.for('concurry.examples.answerSchema');
  let schema = cache[key];
  if (!schema) {
    const { z } = await import('zod');
    schema = cache[key] = z.object({
      sentiment: z.enum(['positive', 'negative', 'neutral']),
      confidence: z.number().min(0).max(1),
      summary: z.string().min(1).max(200),
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(out.text);
  } catch (error) {
    return `the output is not valid JSON (${(error as Error).message}); reply with only a JSON object, no prose or code fences`;
  }
  const result = schema.safeParse(data);
  return result.success || result.error.issues.map((issue) => `${issue.path.join('.') || 'output'}: ${issue.message}`).join('; ');
}

/** The demo's retries: 429s and transient errors up to 6 times, short backoff, completions checked by `validAnswer`. */
export const demoRetries = {
  numRetries: 6,
  retryOn: [transientErrors, rateLimitErrors],
  retryWait: 50,
  retryMaxWait: 2000,
  retryUntil: { complete: validAnswer },
};

export interface ProviderLimits {
  rpm: number;
  tpm: number;
  /** Length of the provider's minute, ms (60 000 in real life). */
  minuteMs?: number;
  /** How much longer our windows are than the provider's, ms; see below. Default 30. */
  marginMs?: number;
  /** Pacing: at most 1/pace of the requests in any 1/pace of the window. Default 40; 1 turns it off. */
  pace?: number;
}

/**
 * Limits that keep a client within a provider's RPM and TPM. Both sides use strict sliding windows,
 * but the provider counts a request when it arrives, a varying moment after our limiter granted
 * it (thread hops, busy event loops, a busy machine). Two things keep that from turning into 429s:
 * - our windows are `marginMs` longer, so a request granted the instant an old one left our window
 *   reaches the provider after that one left the provider's — unless the old one's trip took
 *   longer than the new one's by more than the margin. The longest trips are a fresh pool's first
 *   requests (20–45 ms on a 2-core machine, beside connection setup); after `LLM.connect()` on
 *   every worker they stay under ~10 ms, which the default 30 ms covers;
 * - a CallLimit paces requests through the window: a burst of grants arrives spread out (the
 *   provider reads them one by one), and that spread is jitter the margin would have to cover.
 *   Pacing gives up the burst a fresh window allows, so a batch that fits in a window or two
 *   finishes later than it could; `pace: 1` turns it off.
 */
export function limitsFor({ rpm, tpm, minuteMs = 60_000, marginMs = 30, pace = 40 }: ProviderLimits) {
  const window = minuteMs + marginMs;
  const limits: (RateLimit | CallLimit)[] = [
    new RateLimit({ key: 'requests', window, capacity: rpm }),
    new RateLimit({ key: 'tokens', window, capacity: tpm }),
  ];
  const paceWindow = Math.floor(minuteMs / pace);
  if (pace > 1 && paceWindow >= 1) limits.push(new CallLimit({ window: paceWindow, capacity: Math.ceil(rpm / pace) }));
  return limits;
}
