/**
 * concurry — actor-style workers in sync, async, thread and process modes, futures, actor-side
 * retries with output validation, and exact rate/resource limits.
 *
 * @packageDocumentation
 */
export { Worker, WorkerBuilder, type WorkerOptions, type WorkerOptionsFor } from './worker/worker.js';
export type { WorkerHandle, HandleMethods, HandleControls, MaybeFuture } from './worker/types.js';
export type { HandleStats, MethodStats, StopOptions } from './worker/handle.js';
export { Future, type WaitOptions } from './future/future.js';
export { gather, wait, asCompleted, type GatherOptions, type WaitManyOptions, type AsCompletedOptions } from './future/waiting.js';
export type { ProgressOption, ProgressBarOptions, ProgressBarLike, ProgressCallback } from './future/progress.js';
export type { CallContext } from './runtime/context.js';
export type { RuntimeEvent, RuntimeEventType, ErrorSummary } from './observability/events.js';
export { globalConfig, withConfig, type ConfigOverrides } from './worker/config.js';
export type { Mode } from './config/options.js';
export {
  ConcurryError,
  ConfigError,
  CancelledError,
  WorkerStoppedError,
  WorkerInitError,
  TimeoutError,
  AbortError,
  WorkerCrashedError,
  CircuitOpenError,
  RetryValidationError,
  LimitUsageError,
  ChaosError,
} from './errors.js';
export type { ResilienceOptions, TimeoutOption, HedgeOptions, FallbackOption, FallbackContext } from './resilience/options.js';
export type { CircuitBreakerOptions, CircuitSnapshot, CircuitState } from './resilience/circuit-breaker.js';
export type { CircuitView, GuardStats } from './resilience/guard.js';
export type { ChaosOptions } from './runtime/chaos.js';
export type { LastGoodOptions, LastGoodStats } from './resilience/last-good.js';
export type { LatencySummary } from './observability/latency.js';
export { eventChannel } from './observability/diagnostics.js';
export { FakeClock, systemClock, seededRandom, sleep, type Clock, type RandomSource } from './clock.js';
// Retries: the worker options' types, the standalone and manual helpers, predicates, budgets. The
// engine (executeWithRetry, resolveRetryPolicies, computeWait, …) is internal.
export { RETRY_ALGORITHMS, type PerMethod, type RetryContext, type RetryPredicate, type RetryOnOption, type Validator } from './retry/options.js';
export type { RetryAlgorithm, RetryOptions, RetryBudgetOptions, WorkerRetryOptions } from './retry/options.js';
export type { RetryEvent } from './retry/engine.js';
export { RetryBudget } from './retry/budget.js';
export { transientErrors, rateLimitErrors, retryAfterMs, statusOf } from './classify.js';
export { retry, type StandaloneRetryOptions } from './retry/standalone.js';
export { retrying, backoffDelay, type RetryingOptions, type RetryAttempt, type BackoffDelayOptions } from './retry/manual.js';
export { JITTER_STYLES, type JitterStyle } from './retry/jitter.js';
// Limits: the limit classes, sets, pools, adaptive limits and their option types. The rate
// algorithms behind them (createAlgorithm) are internal.
export { RateLimit, CallLimit, ResourceLimit, isLimit, type Limit, type RateLimitOptions, type CallLimitOptions, type ResourceLimitOptions } from './limits/limit.js';
export { LimitSet, type LimitSetOptions } from './limits/limit-set.js';
export type { AcquireOptions, Requested, LimitsLike, MaybePromise } from './limits/limits-like.js';
export { LimitPool, type LimitPoolOptions } from './limits/limit-pool.js';
export { Acquisition, type ReleaseOptions } from './limits/acquisition.js';
export { RATE_ALGORITHMS, type RateAlgorithmName, type RateAlgorithm } from './limits/algorithms.js';
export { NAMED_WINDOWS, type NamedWindow } from './limits/window.js';
export { AdaptiveLimit, adaptiveUsage, type AdaptiveLimitOptions, type AdaptiveChange } from './limits/adaptive.js';
export type { AdaptiveReason } from './limits/aimd.js';
export type { LimitsOption } from './limits/option.js';
export type { ResourceLimitsOption } from './modes/transport.js';
export type { CoreOptions } from './config/options.js';
export type { PoolOptions } from './worker/option-table.js';
export type { DistributedOptions } from './modes/distributed/register.js';
export { TaskWorker, TaskWorkerBuilder, task, type TaskWorkerHandle, type TaskFunctionHandle, type ModuleFunctionRef } from './task/task-worker.js';
export { MapRun, type MapOptions } from './task/map.js';
export type { PoolStats, PoolWorkerStats } from './pool/pool-transport.js';
export type { LoadBalancing } from './pool/balancers.js';
export { isMainModule } from './util/main-module.js';
export { registerErrorClass, registerErrorClasses } from './serialize/errors.js';
// `mode: 'distributed'` works from this entry; the host, describeConnection and distributedLimitStats
// are in 'concurry/distributed', whose types name the optional peers bullmq and ioredis.
export { HostRefusedError } from './modes/distributed/security.js';
export type { Delivery, ConnectionOption, RedisConnectionOptions } from './modes/distributed/options.js';
export { move, type Movable } from './serialize/transfer.js';
