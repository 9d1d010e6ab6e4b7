import { CancelledError, TimeoutError } from '../errors.js';
import { checkDuration, checkOptionsArgument } from '../config/validate.js';
import { clearLongTimeout, setLongTimeout } from '../util/long-timeout.js';
import { primeFields, type FieldsToPrime } from '../util/field-shapes.js';

/**
 * Below FULFILLED a future is pending; CANCELLING while its cancel() runs, so whichever path then
 * rejects it (the transport may drop the call and reject it first) leaves it CANCELLED. A state,
 * not a flag beside it: one field fewer per call.
 */
type State = 0 | 1 | 2 | 3 | 4;
const PENDING = 0;
const CANCELLING = 1;
const FULFILLED = 2;
const REJECTED = 3;
const CANCELLED = 4;

/**
 * @internal Whoever waits on a future: an object, so a waiter can be one allocation, not three.
 * `tag` is the number given to {@link Future.listen}: one listener can wait on many futures and
 * tell them apart (gather's listener is one object for all its futures, not one per future).
 */
export interface FutureListener<T = unknown> {
  onValue(v: T, tag: number): void;
  onError(e: unknown, tag: number): void;
}

/** Options for {@link Future.result} and {@link Future.exception}. */
export interface WaitOptions {
  /** Give up waiting after this many ms (the call itself goes on). */
  timeout?: number;
}

/**
 * The pending result of a call. A Future is awaitable (`PromiseLike`), can be inspected without
 * awaiting (`done`, `cancelled`), waited on with a timeout, and cancelled.
 *
 * A Future creates no promise until someone awaits it, so a failed future that nobody looks at never
 * becomes an unhandled rejection.
 */
export class Future<T> implements PromiseLike<T> {
  private state: State = PENDING;
  /** The value or the error once settled; while pending, the tag of a single listener (see listen). */
  private value: unknown;
  /** One listener, or listeners and their tags in turn: [listener, tag, listener, tag…]. */
  private listeners: (FutureListener<T> | number)[] | FutureListener<T> | undefined;
  /** @internal Reaches whoever runs the call when it is cancelled; subclasses that run calls override it. */
  protected onCancel(): void {}

  /** A future already resolved with `value`. */
  static resolved<T>(value: T): Future<T> {
    const f = new Future<T>();
    f.resolve(value);
    return f;
  }

  /** A future already rejected with `error`. */
  static rejected<T = never>(error: unknown): Future<T> {
    const f = new Future<T>();
    f.reject(error);
    return f;
  }

  /** Wraps a promise (or thenable) in a Future. */
  static from<T>(p: PromiseLike<T> | T): Future<Awaited<T>> {
    if (p instanceof Future) return p as Future<Awaited<T>>;
    const f = new Future<Awaited<T>>();
    Promise.resolve(p).then(
      (v) => f.resolve(v),
      (e) => f.reject(e),
    );
    return f;
  }

  /** True once the future has a value or an error. */
  get done(): boolean {
    return this.state >= FULFILLED;
  }

  /** True when {@link cancel} succeeded. */
  get cancelled(): boolean {
    return this.state === CANCELLED;
  }

  /** @internal */
  resolve(value: T): void {
    if (this.state >= FULFILLED) return;
    const tag = this.value as number;
    this.state = FULFILLED;
    this.value = value;
    this.flush(tag);
  }

  /** @internal */
  reject(error: unknown): void {
    if (this.state >= FULFILLED) return;
    const tag = this.value as number;
    this.state = this.state === CANCELLING ? CANCELLED : REJECTED;
    this.value = error;
    this.flush(tag);
  }

  /** @internal settles this future the way `source` settles. */
  follow(source: PromiseLike<T>): void {
    source.then(
      (v) => this.resolve(v),
      (e) => this.reject(e),
    );
  }

  /**
   * Cancels the call: a queued call is dropped, a running one has its `AbortSignal` aborted.
   * The future rejects with {@link CancelledError}. Returns false when the future was already done
   * (or completed while it was being cancelled).
   */
  cancel(): boolean {
    if (this.state !== PENDING) return false;
    this.state = CANCELLING;
    try {
      this.onCancel();
    } catch (error) {
      if (this.state === CANCELLING) this.state = PENDING; // not cancelled after all
      throw error;
    }
    this.reject(new CancelledError('Call was cancelled'));
    return this.cancelled;
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Promise's own signature: `.then(f, (e) => e.message)` must compile as it does on a Promise
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return new Promise<T>((resolve, reject) => this.subscribe(resolve, reject)).then(onfulfilled, onrejected);
  }

  /** Same as `Promise.prototype.catch`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Promise's own signature: `.catch((e) => e.message)` must compile as it does on a Promise
  catch<R = never>(onrejected?: ((reason: any) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onrejected);
  }

  /** Same as `Promise.prototype.finally`. */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onfinally);
  }

  /** The value; rejects with the call's error, or {@link TimeoutError} after `timeout` ms. */
  result(options?: WaitOptions): Promise<T> {
    const timeout = checkDuration('result({ timeout })', checkOptionsArgument('result()', options).timeout);
    if (timeout === undefined || this.state >= FULFILLED) return this.then();
    return new Promise<T>((resolve, reject) => {
      const timer = setLongTimeout(
        () => reject(new TimeoutError(`Future did not complete within ${timeout} ms`)),
        timeout,
      );
      this.subscribe(
        (v) => {
          clearLongTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearLongTimeout(timer);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the call's own error, passed on unchanged whatever was thrown
          reject(e);
        },
      );
    });
  }

  /**
   * The call's error, or undefined when it succeeded; rejects with TimeoutError after `timeout`.
   * A cancelled future has no outcome to report: this rejects with its CancelledError, as Python's
   * `Future.exception()` raises it.
   */
  exception(options?: WaitOptions): Promise<unknown> {
    return this.result(options).then(
      () => undefined,
      (e: unknown) => {
        if ((e instanceof TimeoutError && this.state < FULFILLED) || this.state === CANCELLED) throw e;
        return e;
      },
    );
  }

  /** @internal Calls back when settled; immediately (synchronously) if already settled. */
  subscribe(onValue: (v: T) => void, onError: (e: unknown) => void): void {
    this.listen({ onValue, onError });
  }

  /** @internal {@link subscribe} with a listener object, which gets `tag` back with the outcome. */
  listen(l: FutureListener<T>, tag = 0): void {
    // `value` holds T once fulfilled (and the error once rejected): one field, so one cast.
    if (this.state === FULFILLED) return l.onValue(this.value as T, tag);
    if (this.state >= REJECTED) return l.onError(this.value, tag);
    // The one listener's tag waits in `value`, unused until the future settles: no field for it.
    if (this.listeners === undefined) {
      this.listeners = l;
      this.value = tag;
    } else if (Array.isArray(this.listeners)) this.listeners.push(l, tag);
    else this.listeners = [this.listeners, this.value as number, l, tag];
  }

  private flush(tag: number): void {
    const ls = this.listeners;
    if (ls === undefined) return;
    this.listeners = undefined;
    const fulfilled = this.state === FULFILLED;
    // No array for the common single listener: this runs once per call.
    if (!Array.isArray(ls)) notify(ls, fulfilled, this.value, tag);
    else for (let i = 0; i < ls.length; i += 2) notify(ls[i] as FutureListener<T>, fulfilled, this.value, ls[i + 1] as number);
  }

  get [Symbol.toStringTag](): string {
    return 'Future';
  }
}

/**
 * @internal The fields a future rewrites when it settles (or is cancelled): a subclass whose
 * instances are made per call primes them on its own throwaway (see util/field-shapes.ts).
 */
export const FUTURE_SETTLING_FIELDS = { any: ['value', 'listeners'], smallIntegers: ['state'] } as const satisfies FieldsToPrime;

primeFields(new Future(), FUTURE_SETTLING_FIELDS);

/** Tells one listener how a future settled (`value` is the T when fulfilled, the error when not). */
function notify<T>(l: FutureListener<T>, fulfilled: boolean, value: unknown, tag: number): void {
  if (fulfilled) l.onValue(value as T, tag);
  else l.onError(value, tag);
}

/** True for a {@link Future} or any other thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value instanceof Future ||
    value instanceof Promise ||
    (value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function')
  );
}

