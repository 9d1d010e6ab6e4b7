import type { CallContext } from './context.js';
import type { LimitsLike } from '../limits/index.js';

type AnyAcquisition = { released: boolean; release(options?: { force?: boolean }): void };

/**
 * `this.limits` as a worker method sees it: the worker's limits, plus a record of what each attempt
 * acquired, so that whatever an attempt still holds when it ends — released or forgotten — is given
 * back before a retry sleeps or the call settles. Nothing is held across a backoff.
 */
export class AttemptLimits {
  /** Becomes true on the first acquire, so calls of workers that never use limits skip tracking. */
  used = false;
  private readonly held = new Map<CallContext, Set<AnyAcquisition>>();

  constructor(
    readonly inner: LimitsLike,
    private readonly current: () => CallContext | undefined,
  ) {}

  /** Acquires from the worker's limits and records the acquisition against the current attempt. */
  async acquire(...args: Parameters<LimitsLike['acquire']>): Promise<Awaited<ReturnType<LimitsLike['acquire']>>> {
    this.used = true;
    const ctx = this.current();
    const acq = await this.inner.acquire(...args);
    if (ctx) {
      let set = this.held.get(ctx);
      if (!set) this.held.set(ctx, (set = new Set()));
      set.add(acq as unknown as AnyAcquisition);
    }
    return acq;
  }

  /** Acquires now or returns undefined, recording the acquisition like {@link acquire}. In-process modes only. */
  tryAcquire(...args: Parameters<LimitsLike['tryAcquire']>): ReturnType<LimitsLike['tryAcquire']> {
    const acq = this.inner.tryAcquire(...args);
    if (!acq) return acq;
    this.used = true;
    const ctx = this.current();
    if (ctx) {
      let set = this.held.get(ctx);
      if (!set) this.held.set(ctx, (set = new Set()));
      set.add(acq as unknown as AnyAcquisition);
    }
    return acq;
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
      this.releaseFor(ctx);
      throw error;
    }
    return this.releaseAfter(ctx, out);
  }

  /** Releases what `ctx` still holds once `out` (a value or a promise) settles. */
  releaseAfter<R>(ctx: CallContext, out: R): R {
    if (out instanceof Promise) {
      return out.then(
        (v) => {
          this.releaseFor(ctx);
          return v;
        },
        (e) => {
          this.releaseFor(ctx);
          throw e;
        },
      ) as R;
    }
    this.releaseFor(ctx);
    return out;
  }

  /** Gives back everything the attempt `ctx` still holds (forgotten rate amounts count as used). */
  releaseFor(ctx: CallContext): void {
    const set = this.held.get(ctx);
    if (!set) return;
    this.held.delete(ctx);
    for (const acq of set) {
      if (acq.released) continue;
      try {
        acq.release({ force: true });
      } catch {
        // force-release never raises the missing-update error; anything else is the limit's bug
      }
    }
  }
}
