import type { Limit } from './limit.js';
import type { LimitSet } from './limit-set.js';
import type { LimitPool } from './limit-pool.js';
import type { LimitsLike } from './limits-like.js';
import type { AdaptiveLimit } from './adaptive.js';

/**
 * What the `limits` worker option accepts: Limit objects (one new LimitSet over them), a LimitSet,
 * a LimitPool, an AdaptiveLimit, or LimitSets (a LimitPool over them, as Python concurry does).
 */
export type LimitsOption = readonly Limit[] | LimitSet | LimitPool<LimitsLike> | AdaptiveLimit | readonly LimitSet[];
