/**
 * What kind of error is this: its HTTP status, transient or rate-limited (the ready-made retryOn
 * predicates), how long the server asked us to wait, and class matching by name. A leaf: retry,
 * limits, the breaker and the option codec all classify errors, and none of them may import another.
 */
import { LimitUsageError } from './errors.js';

/** Any error class (abstract ones included), as `retryOn` accepts. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** Reads `key` of any value (undefined for primitives), without assuming its shape. */
function field(value: unknown, key: string): unknown {
  return value !== null && (typeof value === 'object' || typeof value === 'function') ? (value as Record<string, unknown>)[key] : undefined;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** The HTTP status an error carries on `status`, `statusCode` or `response.status`. */
export function statusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const s = field(error, 'status') ?? field(error, 'statusCode') ?? field(field(error, 'response'), 'status');
  const n = typeof s === 'string' ? Number(s) : s;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error, depth = 0; e && depth < 5; e = field(e, 'cause'), depth++) out.push(e);
  return out;
}

function isTransient(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e === null || typeof e !== 'object') continue;
    const code = field(e, 'code');
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    const status = statusOf(e);
    if (status !== undefined) return TRANSIENT_STATUS.has(status);
    const name = field(e, 'name');
    if (name === 'TimeoutError' || name === 'ConnectTimeoutError' || name === 'SocketError') return true;
  }
  return false;
}

/**
 * Retries connection resets/refusals, DNS EAI_AGAIN, socket and timeout errors (also in the
 * `cause` chain), and HTTP 408, 425, 429, 500, 502, 503, 504. Client errors (400, 401, 403, 404, …)
 * and validation errors are not transient.
 */
export const transientErrors = (ctx: { error?: unknown }): boolean => isTransient(ctx.error);

/**
 * Retries rate-limit responses: HTTP 429 and errors named or worded as throttling/rate limits.
 * concurry's own LimitUsageError (a misused acquisition, "…for rate limit(s)…") is a bug to fix,
 * not a server's pushback: never retried by this predicate.
 */
export const rateLimitErrors = (ctx: { error?: unknown }): boolean => {
  for (const e of chain(ctx.error)) {
    if (e === null || typeof e !== 'object') continue;
    if (e instanceof LimitUsageError) return false;
    if (statusOf(e) === 429) return true;
    const text = `${textOf(field(e, 'name'))} ${textOf(field(e, 'message'))} ${textOf(field(e, 'code'))}`;
    if (/throttl|rate.?limit|too many requests/i.test(text)) return true;
  }
  return false;
};

/** A field as text the way a template literal shows it; absent is empty. */
function textOf(value: unknown): string {
  return value === undefined || value === null ? '' : stringify(value);
}

/**
 * `String(value)` of a value of any type: error fields and header values are whatever the library
 * that threw put there, and an object's own toString() (or "[object Object]") is what we match on.
 */
const stringify = (value: unknown): string => String(value);

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const get = field(headers, 'get');
  if (typeof get === 'function') {
    const v: unknown = get.call(headers, name);
    return v === null || v === undefined ? undefined : stringify(v);
  }
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? stringify(v[0]) : v === undefined ? undefined : stringify(v);
  }
  return undefined;
}

/**
 * How long the server asked us to wait, in ms: `error.retryAfterMs`, or a `retry-after-ms` /
 * `retry-after` header (seconds or an HTTP date) on the error, `error.headers` or
 * `error.response.headers`. Undefined when there is none.
 */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const own = field(error, 'retryAfterMs');
  if (typeof own === 'number' && own >= 0) return own;
  for (const headers of [field(error, 'headers'), field(field(error, 'response'), 'headers')]) {
    const ms = headerValue(headers, 'retry-after-ms');
    if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
    const ra = headerValue(headers, 'retry-after');
    if (ra === undefined) continue;
    const seconds = Number(ra);
    if (ra.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(ra);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return undefined;
}

/** Matches an error against a class by instanceof, or by name along its prototype chain (classes re-created across threads keep their names). */
export function matchesClass(error: unknown, cls: ErrorClass): boolean {
  if (error instanceof cls) return true;
  if (error === null || typeof error !== 'object') return false;
  if (field(error, 'name') === cls.name) return true;
  for (let p: unknown = Object.getPrototypeOf(error); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (field(field(p, 'constructor'), 'name') === cls.name) return true;
  }
  return false;
}
