/**
 * What other folders use of the retry engine (the runtime, the worker builder, transports). The
 * public retry API is listed in src/index.ts, from the modules that define it.
 */
export { resolveRetryPolicies, resolveRetryPolicy, type RetryContext, type WorkerRetryOptions, type RetryPolicy } from './options.js';
export { computeWait } from './backoff.js';
export { executeWithRetry } from './engine.js';
export { RetryBudget, type RetryBudgetClient } from './budget.js';
