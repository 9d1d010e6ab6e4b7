/**
 * What an acquire() takes, checked the same way by every kind of set (in-process, AdaptiveLimit,
 * Redis): the amounts by key, and the options.
 */
import { ConfigError, LimitUsageError } from '../errors.js';
import { checkDuration, checkOptionsArgument, configError, show } from '../config/validate.js';
import type { AcquireOptions, Requested } from './limits-like.js';

const NO_OPTIONS: AcquireOptions = Object.freeze({});

/** Checks acquire()'s options (an object with an optional timeout >= 0 and an AbortSignal); used by every kind of set. */
export function checkAcquireOptions(options: AcquireOptions | undefined): AcquireOptions {
  if (options === undefined) return NO_OPTIONS; // the common case, on the hot path: no allocation (docs/decisions/limits-acquire-hot-path.md)
  const o = checkOptionsArgument('acquire()', options);
  checkDuration('acquire({ timeout })', o.timeout);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw configError('acquire({ signal })', o.signal, 'an AbortSignal');
  return o;
}

/**
 * acquire() never throws: a check that failed (ConfigError, LimitUsageError) becomes its rejection.
 * The checks only throw Errors; anything else would be a bug, still reported as a ConfigError.
 */
export function rejectFailedCheck(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new ConfigError(`acquire(): ${show(error)}`));
}

/**
 * The amounts an acquire() takes, by key, for any set whose limits are `limits` (in-process or in
 * Redis): validated; unknown keys warn once (per `warned`) and are ignored; Call/Resource limits
 * not named are taken with 1.
 */
export function amountsOf(
  requested: Requested,
  limits: ReadonlyMap<string, { readonly limit: { readonly kind: string; readonly capacity: number } }>,
  warned: Set<string>,
): Map<string, number> {
  if (requested === null || typeof requested !== 'object' || Array.isArray(requested)) {
    throw new ConfigError(`acquire(): requested must be an object of amounts by key, e.g. { tokens: 100 }, got ${show(requested)}`);
  }
  const amounts = new Map<string, number>();
  let named = false; // no Object.keys() array per acquire: hot path (docs/decisions/limits-acquire-hot-path.md)
  for (const [key, n] of Object.entries(requested)) {
    named = true;
    const entry = limits.get(key);
    if (!entry) {
      if (!warned.has(key)) {
        warned.add(key);
        process.emitWarning(`acquire(): no limit named '${key}' in this set (known: ${[...limits.keys()].join(', ') || 'none'}); ignored`, {
          code: 'CONCURRY_LIMIT_UNKNOWN_KEY',
        });
      }
      continue;
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw configError(`acquire({ ${key} })`, n, `an integer from 0 to ${entry.limit.capacity} (the limit's capacity)`);
    }
    if (n > entry.limit.capacity) {
      throw new ConfigError(`acquire(): requested ${n} of '${key}' but its capacity is ${entry.limit.capacity}; this request could never be granted`);
    }
    if (n > 0) amounts.set(key, n);
  }
  if (!named) refuseUnnamedRates(limits);
  for (const [key, { limit }] of limits) if (limit.kind !== 'rate' && !(key in requested)) amounts.set(key, 1);
  return amounts;
}

/**
 * `acquire()` with no amounts takes every Call and Resource limit with 1 — but a RateLimit has no
 * sensible default amount, and skipping it would bypass it silently (Python concurry raises too).
 */
function refuseUnnamedRates(limits: ReadonlyMap<string, { readonly limit: { readonly kind: string } }>): void {
  const rates = [...limits].filter(([, { limit }]) => limit.kind === 'rate').map(([key]) => key);
  if (rates.length === 0) return;
  throw new LimitUsageError(
    `acquire(): no amounts given, but this set holds RateLimit ${rates.map((k) => `'${k}'`).join(', ')}; ` +
      `name the amount to take, e.g. acquire({ ${rates.map((k) => `${k}: n`).join(', ')} }) (a RateLimit is never bypassed silently)`,
  );
}
