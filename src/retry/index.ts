export {
  resolveRetryPolicies,
  resolveRetryPolicy,
  RETRY_ALGORITHMS,
  type PerMethod,
  type RetryContext,
  type RetryPredicate,
  type RetryOnOption,
  type Validator,
  type RetryAlgorithm,
  type RetryOptions,
  type RetryBudgetOptions,
  type WorkerRetryOptions,
  type RetryPolicy,
} from './options.js';
export { computeWait } from './backoff.js';
export { executeWithRetry, type RetryEvent } from './engine.js';
export { RetryBudget, type RetryBudgetClient } from './budget.js';
export { transientErrors, rateLimitErrors, retryAfterMs, statusOf } from './predicates.js';
export { retry, type StandaloneRetryOptions } from './standalone.js';
export { retrying, backoffDelay, type RetryingOptions, type RetryAttempt, type BackoffDelayOptions } from './manual.js';
export { JITTER_STYLES, type JitterStyle } from './jitter.js';
