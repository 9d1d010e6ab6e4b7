export { RateLimit, CallLimit, ResourceLimit, isLimit, type Limit, type RateLimitOptions, type CallLimitOptions, type ResourceLimitOptions } from './limit.js';
export { LimitSet, emptyLimitSet, type LimitSetOptions, type AcquireOptions, type Requested, type LimitsLike } from './limit-set.js';
export { LimitPool, type LimitPoolOptions } from './limit-pool.js';
export { Acquisition, type ReleaseOptions } from './acquisition.js';
export { RATE_ALGORITHMS, type RateAlgorithmName, type RateAlgorithm } from './algorithms.js';
export { NAMED_WINDOWS, type NamedWindow } from './window.js';
export { AdaptiveLimit, adaptiveUsage, type AdaptiveLimitOptions, type AdaptiveChange } from './adaptive.js';
export type { AdaptiveReason } from './aimd.js';
