import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a running method can know about its own call: `this.context` inside a Worker method.
 * With retries, `attempt` counts from 1 and `validationErrors` lists why earlier outputs were
 * rejected, so a method can repair its input.
 */
export interface CallContext {
  readonly methodName: string;
  readonly args: readonly unknown[];
  readonly workerClass: string;
  /** 1-based attempt number. */
  readonly attempt: number;
  /** Milliseconds since the call's first attempt started. */
  readonly elapsedMs: number;
  /** Aborted when the call is cancelled, times out or its worker stops. */
  readonly signal: AbortSignal;
  /** Reasons the previous attempts' outputs were rejected by `retryUntil`, in order. */
  readonly validationErrors: readonly string[];
  /** The error of the previous attempt, if it failed with one. */
  readonly error?: unknown;
}

/**
 * Used only when a worker overlaps calls (`maxConcurrency` > 1): then "the current call" differs
 * per async chain. With one call at a time the runtime keeps the current call in a plain field,
 * which costs nothing per call.
 */
export const overlappingCallContext = new AsyncLocalStorage<CallContext>();
