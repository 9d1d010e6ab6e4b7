/** Ready-made retryOn predicates and server pushback parsing. */
import type { RetryContext } from './options.js';
import { LimitUsageError } from '../errors.js';

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
  const e = error as Record<string, any>;
  const s = e.status ?? e.statusCode ?? e.response?.status;
  const n = typeof s === 'string' ? Number(s) : s;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error, depth = 0; e && depth < 5; e = (e as any).cause, depth++) out.push(e);
  return out;
}

function isTransient(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e === null || typeof e !== 'object') continue;
    const code = (e as any).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    const status = statusOf(e);
    if (status !== undefined) return TRANSIENT_STATUS.has(status);
    const name = (e as any).name;
    if (name === 'TimeoutError' || name === 'ConnectTimeoutError' || name === 'SocketError') return true;
  }
  return false;
}

/**
 * Retries connection resets/refusals, DNS EAI_AGAIN, socket and timeout errors (also in the
 * `cause` chain), and HTTP 408, 425, 429, 500, 502, 503, 504. Client errors (400, 401, 403, 404, …)
 * and validation errors are not transient.
 */
export const transientErrors = (ctx: RetryContext | { error: unknown }): boolean => isTransient(ctx.error);

/**
 * Retries rate-limit responses: HTTP 429 and errors named or worded as throttling/rate limits.
 * concurry's own LimitUsageError (a misused acquisition, "…for rate limit(s)…") is a bug to fix,
 * not a server's pushback: never retried by this predicate.
 */
export const rateLimitErrors = (ctx: RetryContext | { error: unknown }): boolean => {
  for (const e of chain(ctx.error)) {
    if (e === null || typeof e !== 'object') continue;
    if (e instanceof LimitUsageError) return false;
    if (statusOf(e) === 429) return true;
    const text = `${(e as any).name ?? ''} ${(e as any).message ?? ''} ${(e as any).code ?? ''}`;
    if (/throttl|rate.?limit|too many requests/i.test(text)) return true;
  }
  return false;
};

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as any).get === 'function') {
    const v = (headers as any).get(name);
    return v === null || v === undefined ? undefined : String(v);
  }
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : v === undefined ? undefined : String(v);
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
  const e = error as Record<string, any>;
  if (typeof e.retryAfterMs === 'number' && e.retryAfterMs >= 0) return e.retryAfterMs;
  for (const headers of [e.headers, e.response?.headers]) {
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
