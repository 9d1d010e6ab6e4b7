/**
 * A simulated LLM provider over real HTTP, for the demo, its tests and the llm-batch benchmark.
 *
 * It behaves like a hosted chat-completions API under load:
 * - requests-per-minute and tokens-per-minute limits on sliding windows, answered with 429, a
 *   Retry-After header (seconds, plus a precise retry-after-ms) and a JSON error body; rejected
 *   requests count against RPM too, so hammering is self-defeating;
 * - latency drawn from a log-normal distribution;
 * - transient 503s at `failRate`;
 * - outputs that are not JSON or break the answer schema at `malformedRate` — unless the prompt
 *   names what was wrong with the previous output, in which case the "model" gets it right.
 *
 * Every random choice is a hash of (seed, task, attempt of that task, purpose) instead of a draw
 * from one stream, so a task's k-th attempt meets the same fate whatever order requests arrive in
 * and whichever client sends them: runs and clients are comparable.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  COMPLETIONS_PATH,
  COUNT_TOKENS_PATH,
  MODELS_PATH,
  NEGATIVE_WORDS,
  POSITIVE_WORDS,
  chargedTokens,
  countTokens,
  promptTokens,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type CountTokensResponse,
  type ErrorBody,
} from './protocol.js';

export interface ProviderOptions {
  /** Requests per minute; default 600. */
  rpm?: number;
  /** Tokens per minute, charged as prompt + max_tokens on arrival; default 100 000. */
  tpm?: number;
  /**
   * How long a provider "minute" lasts, in ms; default 60 000. The demo shortens it so a batch
   * that real limits would spread over minutes runs in seconds, with the same shape.
   */
  minuteMs?: number;
  /** Fraction of accepted requests answered with a transient 503; default 0. */
  failRate?: number;
  /** Fraction of outputs (without feedback) that are not JSON or break the schema; default 0. */
  malformedRate?: number;
  /** Median latency of a completion, ms; default 50. */
  latency?: number;
  /** Spread of the log-normal latency (σ of its log); default 0.35. */
  latencySpread?: number;
  /** Seed of every random choice; default 1. */
  seed?: number;
}

type Resolved = Required<ProviderOptions>;

export interface ProviderStats {
  /** Requests received at the completions endpoint. */
  requests: number;
  /** Requests counted against the limits: all but 429s and 400s. */
  accepted: number;
  /** 200 responses. */
  succeeded: number;
  /** 429 responses, and which limit was exceeded. */
  rateLimited: number;
  rateLimitedBy: { requests: number; tokens: number };
  /** 503 responses. */
  serverErrors: number;
  /** 400 and 404 responses. */
  badRequests: number;
  /** 200s whose output was not JSON. */
  malformed: number;
  /** 200s whose JSON broke the answer schema. */
  schemaViolations: number;
  /** Valid outputs given because the prompt named what was wrong with the previous one. */
  repaired: number;
  /** Tokens charged against TPM (prompt + max_tokens of accepted requests). */
  tokensCharged: number;
  /** Sum of usage.total_tokens of 200s. */
  tokensUsed: number;
  /**
   * The most requests / tokens ever inside one sliding window. Tokens stay ≤ tpm; requests exceed
   * rpm only when a client kept sending after 429s (rejected requests count).
   */
  peakRequestsInWindow: number;
  peakTokensInWindow: number;
  /** The most requests being answered at once. */
  maxInFlight: number;
}

export interface Provider {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly options: Readonly<Resolved>;
  stats(): ProviderStats;
  /**
   * The least time the limits allow for the work accepted so far: accepted requests ÷ rpm or
   * charged tokens ÷ tpm, whichever is longer, in ms.
   */
  boundMs(): number;
  /** Changes the limits from now on (a provider that halves a tier's limit mid-batch); boundMs() assumes they stay. */
  setLimits(limits: { rpm?: number; tpm?: number }): void;
  /** Stops listening, drops open connections and pending answers. */
  close(): Promise<void>;
}

/** Starts a provider on 127.0.0.1 on a free port. */
export async function startProvider(options: ProviderOptions = {}): Promise<Provider> {
  const o = resolveOptions(options);
  const now = () => performance.now();
  const requestWindow = new SlidingLog(o.rpm, o.minuteMs);
  const tokenWindow = new SlidingLog(o.tpm, o.minuteMs);
  const attemptsByTask = new Map<string, number>();
  const lastDefect = new Map<string, Defect>();
  const timers = new Set<NodeJS.Timeout>();
  const stats = emptyStats();
  let inFlight = 0;
  let nextId = 1;
  let nextRequestId = 1;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    const text = JSON.stringify(body);
    // x-request-id as OpenAI sends it: the openai SDK exposes it as `requestID`, also on errors.
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': `req_${nextRequestId++}`, ...headers });
    res.end(text);
  };
  const fail = (res: ServerResponse, status: number, type: string, message: string, headers?: Record<string, string>) =>
    send(res, status, { error: { type, message, ...(status === 429 ? { code: 'rate_limit_exceeded' } : {}) } } satisfies ErrorBody, headers);
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // Limits count a request from when it arrived, not from when its body was read.
    const t = now();
    if (req.method === 'GET' && req.url === MODELS_PATH) {
      return send(res, 200, { object: 'list', data: [{ id: 'sim-1', object: 'model' }] });
    }
    if (req.method === 'POST' && req.url === COUNT_TOKENS_PATH) {
      let messages: ChatMessage[];
      try {
        messages = parseMessages(JSON.parse(await readBody(req)));
      } catch (error) {
        stats.badRequests++;
        return fail(res, 400, 'invalid_request_error', error instanceof SyntaxError ? 'Request body is not JSON' : (error as Error).message);
      }
      return send(res, 200, { input_tokens: promptTokens(messages) } satisfies CountTokensResponse);
    }
    if (req.method !== 'POST' || req.url !== COMPLETIONS_PATH) {
      stats.badRequests++;
      return fail(res, 404, 'not_found', `No route for ${req.method} ${req.url}; use POST ${COMPLETIONS_PATH}`);
    }
    stats.requests++;
    let request: ChatRequest;
    try {
      request = parseRequest(await readBody(req));
    } catch (error) {
      stats.badRequests++;
      return fail(res, 400, 'invalid_request_error', (error as Error).message);
    }
    const task = request.messages.find((m) => m.role === 'user')!.content;
    const charge = chargedTokens(request);
    if (charge > o.tpm) {
      stats.badRequests++;
      return fail(res, 400, 'invalid_request_error', `This request needs ${charge} tokens but the limit is ${o.tpm} tokens per minute; lower max_tokens`);
    }

    const waitRequests = requestWindow.waitFor(t, 1);
    const waitTokens = tokenWindow.waitFor(t, charge);
    if (waitRequests > 0 || waitTokens > 0) {
      stats.rateLimited++;
      const byTokens = waitTokens > waitRequests;
      stats.rateLimitedBy[byTokens ? 'tokens' : 'requests']++;
      const what = byTokens
        ? `tokens per min: Limit ${o.tpm}, Used ${tokenWindow.used(t)}, Requested ${charge}`
        : `requests per min: Limit ${o.rpm}, Used ${requestWindow.used(t)}, Requested 1`;
      // Rejected requests count against RPM (OpenAI: "unsuccessful requests contribute to your
      // per-minute limit"), so resending without waiting only pushes the next free slot away.
      // The wait is computed after counting this one, so it is honest advice.
      requestWindow.add(t, 1);
      stats.peakRequestsInWindow = Math.max(stats.peakRequestsInWindow, requestWindow.used(t));
      const waitMs = Math.ceil(Math.max(requestWindow.waitFor(t, 1), waitTokens));
      return fail(res, 429, byTokens ? 'tokens' : 'requests', `Rate limit reached for ${what}. Please try again in ${waitMs}ms.`, {
        'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))),
        'retry-after-ms': String(waitMs),
      });
    }
    requestWindow.add(t, 1);
    tokenWindow.add(t, charge);
    stats.accepted++;
    stats.tokensCharged += charge;
    stats.peakRequestsInWindow = Math.max(stats.peakRequestsInWindow, requestWindow.used(t));
    stats.peakTokensInWindow = Math.max(stats.peakTokensInWindow, tokenWindow.used(t));
    const remaining = {
      'x-ratelimit-remaining-requests': String(o.rpm - requestWindow.used(t)),
      'x-ratelimit-remaining-tokens': String(o.tpm - tokenWindow.used(t)),
    };

    const attempt = (attemptsByTask.get(task) ?? 0) + 1;
    attemptsByTask.set(task, attempt);
    const draw = (purpose: string) => unit(o.seed, task, attempt, purpose);
    const latency = latencyMs(o, draw('latency'), draw('latency-2'));
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);

    if (draw('fail') < o.failRate) {
      // Overload errors come back faster than completions.
      return later(latency * 0.3, () => {
        inFlight--;
        stats.serverErrors++;
        fail(res, 503, 'server_error', 'The server is overloaded right now. Please retry.', remaining);
      });
    }

    const feedback = request.messages.filter((m) => m.role === 'user' && m.content !== task).map((m) => m.content).join('\n');
    const previous = lastDefect.get(task);
    let defect: Defect | undefined;
    if (previous && feedback.includes(previous.hint)) {
      stats.repaired++;
    } else if (previous && draw('sticky') < 0.5) {
      defect = previous; // told nothing useful, a model tends to repeat its mistake
    } else if (draw('malformed') < o.malformedRate) {
      defect = pickDefect(draw('defect'));
    }
    if (defect) lastDefect.set(task, defect);
    else lastDefect.delete(task);
    const content = defect ? defect.render(answerFor(task, draw('confidence'))) : JSON.stringify(answerFor(task, draw('confidence')));

    later(latency, () => {
      inFlight--;
      if (defect?.kind === 'not-json') stats.malformed++;
      else if (defect) stats.schemaViolations++;
      const prompt = promptTokens(request.messages);
      const completion = countTokens(content);
      stats.succeeded++;
      stats.tokensUsed += prompt + completion;
      const body: ChatResponse = {
        id: `cmpl-${nextId++}`,
        object: 'chat.completion',
        model: request.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      };
      send(res, 200, body, remaining);
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) fail(res, 500, 'server_error', `Simulator bug: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    options: Object.freeze({ ...o }),
    stats: () => ({ ...stats, rateLimitedBy: { ...stats.rateLimitedBy } }),
    boundMs: () => Math.max(stats.accepted / o.rpm, stats.tokensCharged / o.tpm) * o.minuteMs,
    setLimits: ({ rpm, tpm }) => {
      if (rpm !== undefined) requestWindow.capacity = o.rpm = rpm;
      if (tpm !== undefined) tokenWindow.capacity = o.tpm = tpm;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function resolveOptions(options: ProviderOptions): Resolved {
  const o: Resolved = {
    rpm: 600,
    tpm: 100_000,
    minuteMs: 60_000,
    failRate: 0,
    malformedRate: 0,
    latency: 50,
    latencySpread: 0.35,
    seed: 1,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  for (const key of ['rpm', 'tpm', 'minuteMs'] as const) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) throw new RangeError(`provider option ${key} must be an integer > 0, got ${o[key]}`);
  }
  for (const key of ['failRate', 'malformedRate'] as const) {
    if (!(o[key] >= 0 && o[key] <= 1)) throw new RangeError(`provider option ${key} must be a fraction from 0 to 1, got ${o[key]}`);
  }
  for (const key of ['latency', 'latencySpread'] as const) {
    if (!(o[key] >= 0 && Number.isFinite(o[key]))) throw new RangeError(`provider option ${key} must be a number >= 0, got ${o[key]}`);
  }
  if (!Number.isInteger(o.seed)) throw new RangeError(`provider option seed must be an integer, got ${o.seed}`);
  return o;
}

function emptyStats(): ProviderStats {
  return {
    requests: 0,
    accepted: 0,
    succeeded: 0,
    rateLimited: 0,
    rateLimitedBy: { requests: 0, tokens: 0 },
    serverErrors: 0,
    badRequests: 0,
    malformed: 0,
    schemaViolations: 0,
    repaired: 0,
    tokensCharged: 0,
    tokensUsed: 0,
    peakRequestsInWindow: 0,
    peakTokensInWindow: 0,
    maxInFlight: 0,
  };
}

/**
 * A strict sliding-window log: at most `capacity` units in any `window` ms. Written here rather
 * than borrowed from the library, so the provider checks the library's limiter independently.
 */
class SlidingLog {
  private readonly times: number[] = [];
  private readonly amounts: number[] = [];
  private head = 0;
  private sum = 0;

  constructor(
    public capacity: number,
    private readonly window: number,
  ) {}

  used(now: number): number {
    this.expire(now);
    return this.sum;
  }

  /** ms until `n` more units fit (0 = now). */
  waitFor(now: number, n: number): number {
    this.expire(now);
    let excess = this.sum + n - this.capacity;
    if (excess <= 0) return 0;
    for (let i = this.head; i < this.times.length; i++) {
      excess -= this.amounts[i]!;
      if (excess <= 0) return this.times[i]! + this.window - now;
    }
    return this.window;
  }

  /** Records `n` units at `now`, kept in time order (arrival stamps can finish parsing out of order). */
  add(now: number, n: number): void {
    let i = this.times.length;
    while (i > this.head && this.times[i - 1]! > now) i--;
    this.times.splice(i, 0, now);
    this.amounts.splice(i, 0, n);
    this.sum += n;
    if (this.head > 4096) {
      this.times.splice(0, this.head);
      this.amounts.splice(0, this.head);
      this.head = 0;
    }
  }

  private expire(now: number): void {
    while (this.head < this.times.length && this.times[this.head]! + this.window <= now) {
      this.sum -= this.amounts[this.head]!;
      this.head++;
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1_000_000) throw new Error('Request body is larger than 1 MB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseRequest(text: string): ChatRequest {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error('Request body is not JSON');
  }
  const messages = parseMessages(body);
  const maxTokens = body.max_tokens;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new Error(`'max_tokens' must be an integer >= 1, got ${JSON.stringify(maxTokens)}`);
  return { model: body.model, messages, max_tokens: maxTokens };
}

/** The model and messages every request names, checked. */
function parseMessages(body: any): ChatMessage[] {
  if (typeof body?.model !== 'string') throw new Error("'model' must be a string");
  const messages = body.messages as ChatMessage[];
  if (!Array.isArray(messages) || messages.length === 0 || !messages.every((m) => m && typeof m.content === 'string' && ['system', 'user', 'assistant'].includes(m.role))) {
    throw new Error("'messages' must be a non-empty array of { role: 'system' | 'user' | 'assistant', content: string }");
  }
  if (!messages.some((m) => m.role === 'user')) throw new Error("'messages' needs at least one user message");
  return messages;
}

interface Answer {
  sentiment: 'positive' | 'negative' | 'neutral';
  confidence: number;
  summary: string;
}

/** The "model": counts polarity words. Deterministic per task, so repaired outputs are stable. */
function answerFor(task: string, u: number): Answer {
  const words = task.toLowerCase().match(/[a-z]+/g) ?? [];
  const score = words.filter((w) => POSITIVE_WORDS.includes(w)).length - words.filter((w) => NEGATIVE_WORDS.includes(w)).length;
  const sentiment = score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral';
  const quoted = /"([^"]*)"/.exec(task)?.[1] ?? task;
  return { sentiment, confidence: Math.round((0.6 + 0.39 * u) * 100) / 100, summary: `A ${sentiment} review: ${quoted.slice(0, 60)}` };
}

interface Defect {
  kind: 'not-json' | 'schema';
  /** What a rejection reason must mention for the model to fix it. */
  hint: string;
  render(answer: Answer): string;
}

const DEFECTS: Defect[] = [
  { kind: 'not-json', hint: 'JSON', render: (a) => `Sure! The review is ${a.sentiment} (confidence ${a.confidence}).` },
  { kind: 'not-json', hint: 'JSON', render: (a) => '```json\n' + JSON.stringify(a, null, 2) + '\n```' },
  { kind: 'schema', hint: 'confidence', render: (a) => JSON.stringify({ sentiment: a.sentiment, summary: a.summary }) },
  { kind: 'schema', hint: 'confidence', render: (a) => JSON.stringify({ ...a, confidence: a.confidence > 0.8 ? 'high' : 'medium' }) },
  { kind: 'schema', hint: 'sentiment', render: (a) => JSON.stringify({ ...a, sentiment: a.sentiment === 'positive' ? 'happy' : 'meh' }) },
];

function pickDefect(u: number): Defect {
  return DEFECTS[Math.min(DEFECTS.length - 1, Math.floor(u * DEFECTS.length))]!;
}

/** Log-normal around the median, with its tail clipped so one unlucky draw can't dominate a run. */
function latencyMs(o: Resolved, u1: number, u2: number): number {
  const z = Math.sqrt(-2 * Math.log(Math.max(u1, 1e-12))) * Math.cos(2 * Math.PI * u2);
  return o.latency * Math.exp(o.latencySpread * Math.max(-2.5, Math.min(3, z)));
}

/** A uniform number in [0, 1) from (seed, task, attempt, purpose): FNV-1a, then murmur3's finalizer. */
function unit(seed: number, task: string, attempt: number, purpose: string): number {
  const text = `${seed}\u0000${task}\u0000${attempt}\u0000${purpose}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}
