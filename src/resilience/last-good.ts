/**
 * The `lastGood` option: a fallback to the last successful result for the same key, when the call
 * and any fallback function failed. A bounded LRU cache with a TTL, on the caller's side of the
 * handle (next to the circuit breaker and the fallback), so it serves every mode the same way.
 */
import { checkInteger, checkNumber, configError, rejectUnknownKeys } from '../config/validate.js';
import type { Clock } from '../clock.js';

/** Options of `lastGood`. */
export interface LastGoodOptions {
  /** How long a result may stand in, ms (> 0). */
  ttl: number;
  /** The key of a call (default: the method name and its arguments as JSON). */
  key?: (methodName: string, args: readonly unknown[]) => string;
  /** Results kept at most, least recently used dropped first; default 1000. */
  max?: number;
  /** Methods it applies to; default all. */
  methods?: string[];
}

/** Counters of a `lastGood` cache (in `handle.stats().lastGood`). */
export interface LastGoodStats {
  /** Results cached now. */
  size: number;
  /** Failed calls answered with a stale result. */
  served: number;
  /** Failed calls with no fresh result to give. */
  misses: number;
}

function defaultKey(methodName: string, args: readonly unknown[]): string {
  try {
    return `${methodName}:${JSON.stringify(args)}`;
  } catch {
    return `${methodName}:${args.map(String).join(',')}`;
  }
}

export function checkLastGood(value: unknown): LastGoodOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configError('lastGood', value, '{ ttl, key?, max?, methods? }');
  rejectUnknownKeys('lastGood option', value, ['ttl', 'key', 'max', 'methods']);
  const o = value as LastGoodOptions;
  checkNumber('lastGood.ttl', o.ttl, Number.MIN_VALUE);
  if (o.key !== undefined && typeof o.key !== 'function') throw configError('lastGood.key', o.key, 'a function (methodName, args) => string');
  if (o.max !== undefined) checkInteger('lastGood.max', o.max, 1);
  if (o.methods !== undefined && (!Array.isArray(o.methods) || !o.methods.every((m) => typeof m === 'string'))) {
    throw configError('lastGood.methods', o.methods, 'an array of method names');
  }
  return o;
}

export class LastGoodCache {
  private readonly entries = new Map<string, { value: unknown; at: number }>();
  private readonly key: (methodName: string, args: readonly unknown[]) => string;
  private readonly max: number;
  private readonly methods?: ReadonlySet<string>;
  served = 0;
  misses = 0;

  constructor(
    private readonly options: LastGoodOptions,
    private readonly clock: Clock,
  ) {
    checkLastGood(options);
    this.key = options.key ?? defaultKey;
    this.max = options.max ?? 1000;
    if (options.methods) this.methods = new Set(options.methods);
  }

  private keyOf(methodName: string, args: readonly unknown[]): string | undefined {
    if (this.methods && !this.methods.has(methodName)) return undefined;
    try {
      return this.key(methodName, args);
    } catch {
      return undefined; // a key function that throws: this call is not cached
    }
  }

  /** A call succeeded: its result is the freshest for its key. */
  record(methodName: string, args: readonly unknown[], value: unknown): void {
    const key = this.keyOf(methodName, args);
    if (key === undefined) return;
    this.entries.delete(key); // re-inserted last: Map order is the LRU order
    this.entries.set(key, { value, at: this.clock.now() });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  /** A call failed: the last good result for its key, if younger than the TTL. */
  lookup(methodName: string, args: readonly unknown[]): { value: unknown; ageMs: number } | undefined {
    const key = this.keyOf(methodName, args);
    const entry = key === undefined ? undefined : this.entries.get(key);
    const ageMs = entry ? this.clock.now() - entry.at : Infinity;
    if (!entry || ageMs > this.options.ttl) {
      if (entry) this.entries.delete(key!);
      if (key !== undefined) this.misses++;
      return undefined;
    }
    this.served++;
    return { value: entry.value, ageMs };
  }

  stats(): LastGoodStats {
    return { size: this.entries.size, served: this.served, misses: this.misses };
  }
}
