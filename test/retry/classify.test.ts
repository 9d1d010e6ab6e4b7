/**
 * Error classification (src/classify.ts), the leaf that retry, limits, the breaker and the option
 * codec share: errors come from any library, so their fields may have any type.
 */
import { describe, expect, it } from 'vitest';
import { LimitUsageError, rateLimitErrors, retryAfterMs, statusOf, transientErrors } from '../../src/index.js';
import { matchesClass } from '../../src/classify.js';

describe('statusOf', () => {
  it('reads status, statusCode or response.status; numeric strings count, other values do not', () => {
    expect(statusOf({ status: 503 })).toBe(503);
    expect(statusOf({ statusCode: '429' })).toBe(429);
    expect(statusOf({ response: { status: 502 } })).toBe(502);
    expect(statusOf({ response: 'gone' })).toBeUndefined();
    expect(statusOf({ status: 'teapot' })).toBeUndefined();
    expect(statusOf('503')).toBeUndefined();
    expect(statusOf(null)).toBeUndefined();
  });
});

describe('transientErrors and rateLimitErrors', () => {
  it('look down the cause chain, and a status decides before a name', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(transientErrors({ error: new Error('wrapped', { cause: reset }) })).toBe(true);
    expect(transientErrors({ error: Object.assign(new Error('x'), { name: 'TimeoutError', status: 404 }) })).toBe(false);
    expect(transientErrors({ error: Object.assign(new Error('x'), { code: 42 }) })).toBe(false);
    expect(transientErrors({})).toBe(false);
  });

  it('match throttling in a name, message or code of any type, as String() shows it', () => {
    const wording = { toString: () => 'Too Many Requests' };
    expect(rateLimitErrors({ error: { name: 'Error', message: wording } })).toBe(true);
    expect(rateLimitErrors({ error: { code: 'RATE_LIMITED' } })).toBe(true);
    expect(rateLimitErrors({ error: { message: null, code: undefined, name: 7 } })).toBe(false);
    expect(rateLimitErrors({ error: new LimitUsageError('misused acquisition for rate limit(s) calls') })).toBe(false);
  });
});

describe('retryAfterMs', () => {
  it('calls a headers object’s own get() with the headers as `this`', () => {
    const headers = {
      values: new Map([['retry-after', '4']]),
      get(this: { values: Map<string, string> }, name: string) {
        return this.values.get(name) ?? null;
      },
    };
    expect(retryAfterMs({ headers })).toBe(4000);
    expect(retryAfterMs({ headers: { 'Retry-After-Ms': ['250', '9'] } })).toBe(250);
    expect(retryAfterMs({ retryAfterMs: -1 })).toBeUndefined();
  });
});

describe('matchesClass', () => {
  it('matches by instanceof, by name, or by a class name along the prototype chain', () => {
    class QuotaError extends Error {}
    class DailyQuotaError extends QuotaError {}
    // A class of the same name re-created elsewhere (another thread's copy of the module).
    const Elsewhere = { QuotaError: class QuotaError extends Error {} }.QuotaError;
    expect(matchesClass(new DailyQuotaError('x'), QuotaError)).toBe(true);
    expect(matchesClass(new DailyQuotaError('x'), Elsewhere)).toBe(true);
    expect(matchesClass(Object.assign(new Error('x'), { name: 'QuotaError' }), QuotaError)).toBe(true);
    expect(matchesClass(new Error('x'), QuotaError)).toBe(false);
    expect(matchesClass('QuotaError', QuotaError)).toBe(false);
  });
});
