/** The three kinds of limit. They only describe a limit; the counting happens in a LimitSet. */
import { ConfigError } from '../errors.js';
import { checkOneOf, configError, rejectUnknownKeys } from '../config/validate.js';
import { RATE_ALGORITHMS, type RateAlgorithmName } from './algorithms.js';
import { parseCapacity, parseWindow, type NamedWindow } from './window.js';

function checkObject(what: string, value: unknown, known: string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object') throw new ConfigError(`${what} takes an options object, got ${String(value)}`);
  rejectUnknownKeys(`${what} option`, value, known);
  return value as Record<string, unknown>;
}

function checkKey(what: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw configError(`${what}.key`, key, 'a non-empty string');
  return key;
}

/** Options of a {@link RateLimit}. */
export interface RateLimitOptions {
  /** The name methods acquire it by, e.g. 'tokens' or 'requests'. */
  key: string;
  /** Window in ms, or 'second' | 'minute' | 'hour' | 'day'. */
  window: number | NamedWindow;
  /** Units allowed per window. */
  capacity: number;
  /** Default 'sliding-window'. */
  algorithm?: RateAlgorithmName;
}

/**
 * A budget of units per window (requests, tokens, …). Acquire the amount you expect to use and
 * `update()` the acquisition with what was really used; token-bucket and GCRA refund the rest.
 */
export class RateLimit {
  readonly kind = 'rate' as const;
  readonly key: string;
  readonly window: number;
  readonly capacity: number;
  readonly algorithm: RateAlgorithmName;
  /** Whether an acquisition must report usage with update() before release. */
  readonly needsUpdate: boolean = true;

  constructor(options: RateLimitOptions) {
    const o = checkObject('RateLimit', options, ['key', 'window', 'capacity', 'algorithm']);
    this.key = checkKey('RateLimit', o.key);
    this.window = parseWindow('RateLimit.window', o.window);
    this.capacity = parseCapacity('RateLimit.capacity', o.capacity);
    this.algorithm = o.algorithm === undefined ? 'sliding-window' : checkOneOf('RateLimit.algorithm', o.algorithm, RATE_ALGORITHMS);
  }
}

/** Options of a {@link CallLimit}. */
export interface CallLimitOptions {
  window: number | NamedWindow;
  capacity: number;
  algorithm?: RateAlgorithmName;
}

/** Calls per window: key 'call_count', one unit per acquisition unless asked otherwise; no update needed. */
export class CallLimit {
  readonly kind = 'call' as const;
  readonly key = 'call_count';
  readonly window: number;
  readonly capacity: number;
  readonly algorithm: RateAlgorithmName;
  readonly needsUpdate: boolean = false;

  constructor(options: CallLimitOptions) {
    const o = checkObject('CallLimit', options, ['window', 'capacity', 'algorithm']);
    this.window = parseWindow('CallLimit.window', o.window);
    this.capacity = parseCapacity('CallLimit.capacity', o.capacity);
    this.algorithm = o.algorithm === undefined ? 'sliding-window' : checkOneOf('CallLimit.algorithm', o.algorithm, RATE_ALGORITHMS);
  }
}

/** Options of a {@link ResourceLimit}. */
export interface ResourceLimitOptions {
  key: string;
  capacity: number;
}

/** A semaphore: at most `capacity` units held at once (connections, GPU slots, …). */
export class ResourceLimit {
  readonly kind = 'resource' as const;
  readonly key: string;
  readonly capacity: number;
  readonly needsUpdate: boolean = false;

  constructor(options: ResourceLimitOptions) {
    const o = checkObject('ResourceLimit', options, ['key', 'capacity']);
    this.key = checkKey('ResourceLimit', o.key);
    this.capacity = parseCapacity('ResourceLimit.capacity', o.capacity);
  }
}

export type Limit = RateLimit | CallLimit | ResourceLimit;

export function isLimit(value: unknown): value is Limit {
  return value instanceof RateLimit || value instanceof CallLimit || value instanceof ResourceLimit;
}
