import { ConfigError } from '../errors.js';
import { LimitSet, LimitPool, AdaptiveLimit, emptyLimitSet, type Limit, type LimitsLike } from '../limits/index.js';
import { show } from '../config/validate.js';

/**
 * Turns the `limits` option into the set workers draw on: Limit objects (one new LimitSet), a
 * LimitSet, a LimitPool, an AdaptiveLimit, or an array of LimitSets (a LimitPool over them, as Python concurry does).
 */
export function toLimits(value: unknown): LimitsLike {
  if (value === undefined) return emptyLimitSet();
  if (value instanceof LimitSet || value instanceof LimitPool || value instanceof AdaptiveLimit) return value as LimitsLike;
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    if (items.length > 0 && items.every((v) => v instanceof LimitSet)) return new LimitPool(items);
    if (items.some((v) => v instanceof LimitSet || v instanceof LimitPool)) {
      throw new ConfigError(
        `Invalid option 'limits': an array must hold only limits (RateLimit, CallLimit, ResourceLimit) or only LimitSets, got ${items.map(show).join(', ')}; to combine sets, pass new LimitPool([setA, setB])`,
      );
    }
    // Typed as limits for the constructor, which checks each entry itself and names a bad one.
    return new LimitSet(items as Limit[]);
  }
  throw new ConfigError(`Invalid option 'limits': got ${show(value)}; expected an array of limits, a LimitSet, a LimitPool, an array of LimitSets or an AdaptiveLimit`);
}
