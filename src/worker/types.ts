import type { Future } from '../future/future.js';
import type { HandleStats, StopOptions } from './handle.js';
import type { RuntimeEvent, RuntimeEventType } from '../observability/events.js';
import type { ReservedHandleKey } from '../runtime/methods.js';
import type { CircuitView } from '../resilience/guard.js';

/** A value or a future/promise of it: what a handle method accepts for each argument. */
export type MaybeFuture<T> = T | PromiseLike<T>;

/**
 * Public methods only: names starting with `_` are internal, as at run time (TS `private`/`protected`
 * are not in `keyof`), and reserved names (RESERVED_HANDLE_KEYS) belong to the handle.
 */
type MethodKeys<W> = {
  // `never[]` parameters: every function type extends it, whatever its parameters.
  [K in keyof W]: K extends ReservedHandleKey | `_${string}` ? never : K extends string ? (W[K] extends (...args: never[]) => unknown ? K : never) : never;
}[keyof W];

/** Each public method of `W`, returning a Future of its awaited result. */
export type HandleMethods<W> = {
  [K in MethodKeys<W>]: W[K] extends (...args: infer A) => infer R
    ? (...args: { [I in keyof A]: MaybeFuture<A[I]> }) => Future<Awaited<R>>
    : never;
};

/** Controls every handle has, whatever its class. */
export interface HandleControls {
  /** Resolves when the instance is constructed; rejects with WorkerInitError when its constructor threw. */
  ready(): Promise<void>;
  /**
   * Stops the worker. Idempotent. Calls still queued or running when it ends reject with
   * CancelledError; calls made after it throw WorkerStoppedError.
   */
  stop(options?: StopOptions): Promise<void>;
  /** Subscribes to runtime events (`retry`, `retry-success`, `retry-exhausted`, `validation-failed`); returns an unsubscribe function. */
  on<T extends RuntimeEventType>(type: T, listener: (event: Extract<RuntimeEvent, { type: T }>) => void): () => void;
  off<T extends RuntimeEventType>(type: T, listener: (event: Extract<RuntimeEvent, { type: T }>) => void): void;
  /** Per-method attempts, retries, successes, failures, validation failures and backoff time. */
  stats(): HandleStats;
  /** The circuit breaker's state and counters ('closed' and empty without a `circuitBreaker` option). */
  readonly circuit: CircuitView;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The handle `init()` returns: the class's methods as Future-returning calls, plus controls. */
export type WorkerHandle<W> = HandleMethods<W> & HandleControls;
