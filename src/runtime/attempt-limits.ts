import type { CallContext } from './context.js';
import type { Acquisition, LimitUsageError } from '../limits/acquisition.js';
import type { AcquireOptions, LimitsLike, MaybePromise, Requested } from '../limits/limits-like.js';

/**
 * `this.limits` as a worker method sees it: the worker's limits, plus a record of what each attempt
 * acquired, so that whatever an attempt still holds when it ends — released or forgotten — is given
 * back before a retry sleeps or the call settles. Nothing is held across a backoff.
 *
 * A RateLimit released without update() during an attempt (by `await using`, a `finally`, or
 * `release()`) is not thrown there: the attempt raises that LimitUsageError when it completes, and
 * drops it when the method threw, so the method's own error (a 429…) reaches retries and the caller.
 */
export class AttemptLimits implements LimitsLike {
  /** Becomes true on the first acquire, so calls of workers that never use limits skip tracking. */
  used = false;
  private readonly held = new Map<CallContext, Set<Acquisition>>();
  /** Per attempt: the first missing-update error its acquisitions deferred. */
  private readonly misused = new Map<CallContext, LimitUsageError>();

  constructor(
    readonly inner: LimitsLike,
    private readonly current: () => CallContext | undefined,
  ) {}

  /** Acquires from the worker's limits and records the acquisition against the current attempt. */
  async acquire(requested?: Requested, options?: AcquireOptions): Promise<Acquisition> {
    this.used = true;
    const ctx = this.current();
    const acq = await this.inner.acquire(requested, options);
    this.record(ctx, acq);
    return acq;
  }

  /**
   * Acquires now or returns undefined, recording the acquisition like {@link acquire}. In process
   * workers the limits live in the caller, so the answer is a Promise there (`await` it).
   */
  tryAcquire(requested?: Requested): MaybePromise<Acquisition | undefined> {
    const ctx = this.current();
    const out = this.inner.tryAcquire(requested);
    if (out instanceof Promise) {
      this.used = true;
      return out.then((acq) => {
        if (acq) this.record(ctx, acq);
        return acq;
      });
    }
    if (!out) return undefined;
    this.used = true;
    this.record(ctx, out);
    return out;
  }

  private record(ctx: CallContext | undefined, acq: Acquisition): void {
    if (!ctx) return;
    let set = this.held.get(ctx);
    if (!set) this.held.set(ctx, (set = new Set()));
    set.add(acq);
    acq.deferMissingUpdate = (error) => {
      if (!this.misused.has(ctx)) this.misused.set(ctx, error);
    };
  }

  /** Acquires, runs `fn`, releases (also when `fn` throws). */
  async run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R> {
    const acq = await this.acquire(requested);
    try {
      return await fn(acq);
    } finally {
      acq.release();
    }
  }

  stats(): MaybePromise<Record<string, unknown>> {
    return this.inner.stats();
  }

  needsUpdate(key: string): boolean {
    return this.inner.needsUpdate(key);
  }

  get config(): Record<string, unknown> {
    return this.inner.config;
  }

  /** Runs one attempt; when it settles, releases what it still holds. */
  track<R>(ctx: CallContext, fn: () => R): R {
    let out: R;
    try {
      out = fn();
    } catch (error) {
      this.end(ctx);
      throw error;
    }
    return this.releaseAfter(ctx, out);
  }

  /**
   * Releases what `ctx` still holds once `out` (a value or a promise) settles. An attempt that
   * completed but released a RateLimit without update() fails with that LimitUsageError.
   */
  releaseAfter<R>(ctx: CallContext, out: R): R {
    if (out instanceof Promise) {
      const settled = (out as Promise<unknown>).then(
        (v) => {
          const misuse = this.end(ctx);
          if (misuse) throw misuse;
          return v;
        },
        (e) => {
          this.end(ctx);
          throw e;
        },
      );
      return settled as R;
    }
    const misuse = this.end(ctx);
    if (misuse) throw misuse;
    return out;
  }

  /** The attempt `ctx` ended: releases what it holds; returns the missing-update error it deferred, if any. */
  private end(ctx: CallContext): LimitUsageError | undefined {
    this.releaseFor(ctx);
    const misuse = this.misused.get(ctx);
    if (misuse) this.misused.delete(ctx);
    return misuse;
  }

  /** Gives back everything the attempt `ctx` still holds (forgotten rate amounts count as used). */
  releaseFor(ctx: CallContext): void {
    const set = this.held.get(ctx);
    if (!set) return;
    this.held.delete(ctx);
    for (const acq of set) {
      // After the attempt, a late release() of this acquisition raises as outside a worker.
      acq.deferMissingUpdate = undefined;
      if (acq.released) continue;
      try {
        acq.release({ force: true });
      } catch {
        // force-release never raises the missing-update error; anything else is the limit's bug
      }
    }
  }
}
