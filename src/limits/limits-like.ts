/**
 * The contract every kind of limits honours — LimitSet, LimitPool, AdaptiveLimit, sets kept in
 * Redis, and `this.limits` inside a worker of any mode — and the `run()` every one of them shares.
 */
import type { Acquisition } from './acquisition.js';

/** Options of `acquire()`. */
export interface AcquireOptions {
  /** Give up after this many ms with TimeoutError. */
  timeout?: number;
  signal?: AbortSignal;
}

/** Amounts to acquire by key; Call and Resource limits not named are taken with 1. */
export type Requested = Record<string, number>;

/**
 * A value, or a Promise of it. Inside a process worker (and a thread worker whose limits cannot be
 * shared) the limits live in the caller, so `tryAcquire()` and `stats()` answer over the channel
 * with a Promise; everywhere else they answer at once. `await` works on both.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * The surface workers use as `this.limits`. LimitSet, LimitPool and AdaptiveLimit implement it with
 * synchronous `tryAcquire()` and `stats()`; a worker whose limits live in another process may answer
 * those with a Promise (see {@link MaybePromise}), so mode-portable code awaits them.
 */
export interface LimitsLike {
  /** Acquires every requested amount at once, waiting (FIFO) until all fit. */
  acquire(requested?: Requested, options?: AcquireOptions): Promise<Acquisition>;
  /** Acquires if everything fits now, else undefined (nothing held). */
  tryAcquire(requested?: Requested): MaybePromise<Acquisition | undefined>;
  /** Acquires, runs `fn`, releases — also when `fn` throws. */
  run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R>;
  /** Per key: what the algorithm knows (available, utilization, …), and the waiters. */
  stats(): MaybePromise<Record<string, unknown>>;
  /** Whether `key` is a RateLimit whose acquisitions must report their usage with `update()` before release. */
  needsUpdate(key: string): boolean;
  /** A copy of the limits' config (`LimitSet` option `config`). */
  readonly config: Record<string, unknown>;
}

/** Acquires from `limits`, runs `fn`, releases — also when `fn` throws. Every kind of set's run(). */
export async function runAcquired<R>(
  limits: Pick<LimitsLike, 'acquire'>,
  requested: Requested | undefined,
  fn: (acq: Acquisition) => R | Promise<R>,
): Promise<R> {
  const acq = await limits.acquire(requested);
  try {
    return await fn(acq);
  } finally {
    acq.release();
  }
}
