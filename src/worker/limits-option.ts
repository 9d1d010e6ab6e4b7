import { ConfigError } from '../errors.js';
import { LimitSet, LimitPool, AdaptiveLimit, emptyLimitSet, type LimitsLike } from '../limits/index.js';
import { show } from '../config/validate.js';

/** Turns the `limits` option (Limit objects, a LimitSet, a LimitPool or an AdaptiveLimit) into the set workers draw on. */
export function toLimits(value: unknown): LimitsLike {
  if (value === undefined) return emptyLimitSet();
  if (value instanceof LimitSet || value instanceof LimitPool || value instanceof AdaptiveLimit) return value as LimitsLike;
  if (Array.isArray(value)) return new LimitSet(value as any) as LimitsLike;
  throw new ConfigError(`Invalid option 'limits': got ${show(value)}; expected an array of limits, a LimitSet, a LimitPool or an AdaptiveLimit`);
}
