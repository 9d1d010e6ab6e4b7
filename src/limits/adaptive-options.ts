/** The options of an AdaptiveLimit and their checks (ConfigError naming the option). */
import { ConfigError } from '../errors.js';
import { checkInteger, checkNumber, checkOneOf, configError, rejectUnknownKeys } from '../config/validate.js';
import type { Clock } from '../clock.js';
import { parseWindow, type NamedWindow } from './window.js';

/** Options of an {@link AdaptiveLimit}. */
export interface AdaptiveLimitOptions {
  /** The name methods acquire it by, e.g. 'requests'. */
  key: string;
  /** 'rate' (default): `value` calls per `window`, spaced evenly. 'concurrency': `value` calls at once. */
  kind?: 'rate' | 'concurrency';
  /** The rate's window: ms or 'second' | 'minute' | …; default 'second'. Also the period of additive increase. */
  window?: number | NamedWindow;
  /** The first guess. */
  initial: number;
  /** Never below this; default 1. */
  floor?: number;
  /** Never above this. */
  ceiling: number;
  /** Factor applied on overload, in (0, 1); default 0.9. */
  decrease?: number;
  /** Units added per window when probing past the last good value (doubling every half window without a cut); default 2% of the last good value, at least 1. */
  increase?: number;
  /** Smoothed latency above this × its baseline counts as overload; default 3 for a concurrency, `Infinity` (off) for a rate. */
  latencyTolerance?: number;
  /** Which errors mean "too much" in {@link AdaptiveLimit.run}; default `rateLimitErrors`. */
  isOverload?: (ctx: { error: unknown }) => boolean;
  /** Metadata copied into every acquisition (`acq.config`). */
  config?: Record<string, unknown>;
  clock?: Clock;
}

/** Checks `options` and returns them resolved, defaults applied. */
export function checkOptions(options: AdaptiveLimitOptions) {
  if (options === null || typeof options !== 'object') throw new ConfigError(`AdaptiveLimit takes an options object, got ${String(options)}`);
  rejectUnknownKeys('AdaptiveLimit option', options, ['key', 'kind', 'window', 'initial', 'floor', 'ceiling', 'decrease', 'increase', 'latencyTolerance', 'isOverload', 'config', 'clock']);
  const o = options;
  if (typeof o.key !== 'string' || o.key.length === 0) throw configError('AdaptiveLimit.key', o.key, 'a non-empty string');
  const kind = o.kind === undefined ? 'rate' : checkOneOf('AdaptiveLimit.kind', o.kind, ['rate', 'concurrency'] as const);
  const window = o.window === undefined ? 1000 : parseWindow('AdaptiveLimit.window', o.window);
  const floor = o.floor === undefined ? 1 : checkNumber('AdaptiveLimit.floor', o.floor, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER);
  const ceiling = checkNumber('AdaptiveLimit.ceiling', o.ceiling, floor, Number.MAX_SAFE_INTEGER);
  const initial = checkNumber('AdaptiveLimit.initial', o.initial, floor, ceiling);
  const decrease = o.decrease === undefined ? 0.9 : checkNumber('AdaptiveLimit.decrease', o.decrease, Number.MIN_VALUE, 1);
  if (decrease === 1) throw configError('AdaptiveLimit.decrease', decrease, 'a number in (0, 1)');
  const increase = o.increase === undefined ? undefined : checkNumber('AdaptiveLimit.increase', o.increase, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER);
  // Latency is the signal of a concurrency (Little's law: more in flight than the server serves
  // only queues). Under a rate limit the provider answers over-limit calls with 429s at once, and
  // latency tracks load that is not ours to cut, so it is off unless asked for.
  const latencyTolerance = o.latencyTolerance === undefined ? (kind === 'concurrency' ? 3 : Infinity) : checkNumber('AdaptiveLimit.latencyTolerance', o.latencyTolerance, 1);
  if (o.isOverload !== undefined && typeof o.isOverload !== 'function') throw configError('AdaptiveLimit.isOverload', o.isOverload, 'a predicate ({ error }) => boolean');
  if (o.config !== undefined && (o.config === null || typeof o.config !== 'object')) throw configError('AdaptiveLimit.config', o.config, 'an object');
  if (kind === 'concurrency') {
    // A concurrency is whole calls: whole bounds keep floor(value) inside them.
    checkInteger('AdaptiveLimit.floor', floor, 1);
    checkInteger('AdaptiveLimit.ceiling', ceiling, floor);
  }
  return { key: o.key, kind, window, floor, ceiling, initial, decrease, increase, latencyTolerance };
}
