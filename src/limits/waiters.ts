/**
 * What every limit's FIFO of waiting acquirers shares: a waiter's deadline and abort listener, and
 * the one timer that wakes the queue when its head can be served. LimitSet and AdaptiveLimit keep
 * their own queues (a LimitSet's is guarded by its shared-memory lock); this is the bookkeeping
 * around them.
 */
import { AbortError, TimeoutError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Acquisition } from './acquisition.js';

/** An acquirer waiting in a limit's queue. */
export interface Waiter {
  resolve: (a: Acquisition) => void;
  reject: (e: unknown) => void;
  timer?: unknown;
  onAbort?: () => void;
  signal?: AbortSignal;
}

export function abortError(signal: AbortSignal): AbortError {
  return new AbortError('Limit acquisition aborted', { cause: signal.reason });
}

/** Arms `waiter`'s timeout and abort listener; either calls `drop` with the error to reject it with. */
export function armWaiter(
  clock: Clock,
  waiter: Waiter,
  options: { timeout?: number; signal?: AbortSignal },
  drop: (error: Error) => void,
): void {
  if (options.timeout !== undefined) {
    waiter.timer = clock.setTimeout(() => drop(new TimeoutError(`Limits not acquired within ${options.timeout} ms`)), options.timeout);
  }
  const signal = options.signal;
  if (signal) {
    waiter.onAbort = () => drop(abortError(signal));
    signal.addEventListener('abort', waiter.onAbort, { once: true });
  }
}

/** Clears what {@link armWaiter} set, once the waiter is served or dropped. */
export function disarmWaiter(clock: Clock, waiter: Waiter): void {
  if (waiter.timer !== undefined) clock.clearTimeout(waiter.timer);
  if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
}

/** The one timer that wakes a queue when its head can be served. */
export class WakeTimer {
  private timer: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly wake: () => void,
  ) {}

  cancel(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Wakes the queue in `ms`; an infinite wait sets nothing (a release wakes it instead). */
  set(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, ms);
  }
}
