/**
 * What other folders use of the limits engine (the runtime, the worker builder, transports). The
 * public limits API is listed in src/index.ts, from the modules that define it.
 */
export type { Limit } from './limit.js';
export { LimitSet, emptyLimitSet } from './limit-set.js';
export type { LimitsLike } from './limits-like.js';
export { LimitPool } from './limit-pool.js';
export { AdaptiveLimit } from './adaptive.js';
