export { RateLimit, CallLimit, ResourceLimit, isLimit, type Limit, type RateLimitOptions, type CallLimitOptions, type ResourceLimitOptions } from './limit.js';
export { LimitSet, emptyLimitSet, type LimitSetOptions } from './limit-set.js';
export type { AcquireOptions, Requested, LimitsLike, MaybePromise } from './limits-like.js';
export { LimitPool, type LimitPoolOptions } from './limit-pool.js';
export { Acquisition, LimitUsageError, type ReleaseOptions } from './acquisition.js';
export { RATE_ALGORITHMS, createAlgorithm, type RateAlgorithmName, type RateAlgorithm } from './algorithms.js';
export { NAMED_WINDOWS, type NamedWindow } from './window.js';
export { AdaptiveLimit, adaptiveUsage, type AdaptiveLimitOptions, type AdaptiveChange } from './adaptive.js';
export type { AdaptiveReason } from './aimd.js';
