import type { CallContext } from './context.js';
import type { LimitsLike } from '../limits/index.js';
import type { LimitUsageError } from '../limits/acquisition.js';

type AnyAcquisition = {
  released: boolean;
  release(options?: { force?: boolean }): void;
  deferMissingUpdate?: (error: LimitUsageError) => void;
};

/**
 * `this.limits` as a worker method sees it: the worker's limits, plus a record of what each attempt
 * acquired, so that whatever an attempt still holds when it ends — released or forgotten — is given
 * back before a retry sleeps or the call settles. Nothing is held across a backoff.
 *
 * A RateLimit released without update() during an attempt (by `await using`, a `finally`, or
 * `release()`) is not thrown there: the attempt raises that LimitUsageError when it completes, and
 * drops it when the method threw, so the method's own error (a 429…) reaches retries and the caller.
 */
export class AttemptLimits {
  /** Becomes true on the first acquire, so calls of workers that never use limits skip tracking. */
  used = false;
  private readonly held = new Map<CallContext, Set<AnyAcquisition>>();
  /** Per attempt: the first missing-update error its acquisitions deferred. */
  private readonly misused = new Map<CallContext, LimitUsageError>();

  constructor(
    readonly inner: LimitsLike,
    private readonly current: () => CallContext | undefined,
  ) {}

  /** Acquires from the worker's limits and records the acquisition against the current attempt. */
  async acquire(...args: Parameters<LimitsLike['acquire']>): Promise<Awaited<ReturnType<LimitsLike['acquire']>>> {
    this.used = true;
    const ctx = this.current();
    const acq = await this.inner.acquire(...args);
    this.record(ctx, acq);
    return acq;
  }

  /**
   * Acquires now or returns undefined, recording the acquisition like {@link acquire}. In process
   * workers the limits live in the caller, so the answer is a Promise there (`await` it).
   */
  tryAcquire(...args: Parameters<LimitsLike['tryAcquire']>): ReturnType<LimitsLike['tryAcquire']> {
    const ctx = this.current();
    const out = this.inner.tryAcquire(...args) as unknown;
    if (out instanceof Promise) {
      this.used = true;
      return out.then((acq) => {
        if (acq) this.record(ctx, acq);
        return acq;
      }) as unknown as ReturnType<LimitsLike['tryAcquire']>;
    }
    if (!out) return undefined;
    this.used = true;
    this.record(ctx, out as AnyAcquisition);
    return out as ReturnType<LimitsLike['tryAcquire']>;
  }

  private record(ctx: CallContext | undefined, acq: AnyAcquisition): void {
    if (!ctx) return;
    let set = this.held.get(ctx);
    if (!set) this.held.set(ctx, (set = new Set()));
    set.add(acq);
    acq.deferMissingUpdate = (error) => {
      if (!this.misused.has(ctx)) this.misused.set(ctx, error);
    };
  }

  /** Acquires, runs `fn`, releases (also when `fn` throws). */
  async run<R>(requested: Parameters<LimitsLike['acquire']>[0], fn: (acq: Awaited<ReturnType<LimitsLike['acquire']>>) => R | Promise<R>): Promise<R> {
    const acq = await this.acquire(requested);
    try {
      return await fn(acq);
    } finally {
      acq.release();
    }
  }

  stats(): ReturnType<LimitsLike['stats']> {
    return this.inner.stats();
  }

  get config(): Record<string, unknown> {
    return (this.inner as any).config ?? {};
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
      return out.then(
        (v) => {
          const misuse = this.end(ctx);
          if (misuse) throw misuse;
          return v;
        },
        (e) => {
          this.end(ctx);
          throw e;
        },
      ) as R;
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
