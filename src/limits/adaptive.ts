/**
 * A limit that finds the provider's limit instead of being told it: an {@link Aimd} value, granted
 * either as a rate (value per window, spaced evenly) or as a concurrency (value calls at once).
 * Used as a worker's `limits`, it is the caller's object: thread and process workers reach it over
 * the same channel as a LimitSet they cannot share memory with, so every worker of a pool adapts
 * one value. Outcomes come back through the acquisition: `acq.update(adaptiveUsage(key, error))`.
 */
import { ConfigError } from '../errors.js';
import { configError } from '../config/validate.js';
import { systemClock, type Clock } from '../clock.js';
import { rateLimitErrors, retryAfterMs } from '../classify.js';
import { Acquisition } from './acquisition.js';
import { Aimd, type AdaptiveReason } from './aimd.js';
import { checkAcquireOptions, rejectFailedCheck } from './amounts.js';
import { runAcquired, type AcquireOptions, type LimitsLike, type Requested } from './limits-like.js';
import { checkOptions, type AdaptiveLimitOptions } from './adaptive-options.js';
import { WindowCount } from './window-count.js';
import { WakeTimer, abortError, armWaiter, disarmWaiter, type Waiter } from './waiters.js';

export type { AdaptiveLimitOptions };

/** A rate counts as used in full (and may grow) when this share of it was granted in the last window. */
const SATURATED_SHARE = 0.8;
/** …or this share, while callers are queued for it (a starved client can inflate the value to 2.5× what it sends, no more). */
const QUEUED_SATURATED_SHARE = 0.4;

/** Rate: how late a grant may be and still keep its slot's time, ms (see grant()). */
const CATCH_UP_MS = 10;

/** The usage key an outcome's Retry-After travels under (see {@link adaptiveUsage}). */
export const RETRY_AFTER_KEY = 'retryAfterMs';

/** An event of {@link AdaptiveLimit.on}: the granted value changed. */
export interface AdaptiveChange {
  key: string;
  /** The granted value before and after (whole units; a rate below 10 to 2 decimals). */
  from: number;
  to: number;
  reason: AdaptiveReason;
  /** The clock's time of the change, ms. */
  at: number;
}

interface AdaptiveWaiter extends Waiter {
  n: number;
  saturated: boolean;
}

/** What the limit remembers about one grant until it is released. */
interface Grant {
  n: number;
  epoch: number;
  at: number;
  saturated: boolean;
  outcome?: Map<string, number>;
}

/** An acquisition of an adaptive limit: `update()` reports the outcome instead of usage. */
class AdaptiveAcquisition extends Acquisition {
  constructor(
    private readonly grant: Grant,
    limit: AdaptiveLimit,
    amounts: ReadonlyMap<string, number>,
    config: Record<string, unknown>,
  ) {
    super({ giveBack: () => limit.finish(grant), needsUpdate: () => false }, amounts, config);
  }

  /**
   * `{ [key]: 1 }` = the provider accepted the call, `{ [key]: 0 }` = it refused it (overload),
   * optionally with `retryAfterMs`; no update = no signal. {@link adaptiveUsage} builds it.
   */
  override update(usage: Record<string, number>): this {
    if (this.released) return super.update(usage); // raises the usual LimitUsageError
    for (const [k, v] of Object.entries(usage)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`update(): usage for '${k}' must be a number >= 0, got ${String(v)}`);
      (this.grant.outcome ??= new Map()).set(k, v);
    }
    return this;
  }
}

/** The usage to report to an adaptive limit `key` for a call that ended with `error` (none = accepted). */
export function adaptiveUsage(key: string, error?: unknown, isOverload: (ctx: { error: unknown }) => boolean = rateLimitErrors): Record<string, number> {
  if (error === undefined) return { [key]: 1 };
  if (!isOverload({ error })) return {};
  const wait = retryAfterMs(error);
  return wait === undefined ? { [key]: 0 } : { [key]: 0, [RETRY_AFTER_KEY]: wait };
}

/**
 * A rate or concurrency limit that converges on what the provider accepts: it grows while calls
 * succeed, is cut on 429s, throttling errors, Retry-After and rising latency, and never leaves
 * [floor, ceiling]. Give it to a worker or pool as `limits` (alone, or inside a LimitPool); worker
 * methods acquire it like any limit and report how the call went:
 *
 * ```ts
 * import { AdaptiveLimit, Worker, adaptiveUsage } from 'concurry';
 *
 * class Client extends Worker {
 *   async get(url: string): Promise<string> {
 *     const acq = await this.limits.acquire({ requests: 1 });
 *     try {
 *       const res = await fetch(url);
 *       if (res.status === 429) throw Object.assign(new Error('429'), { status: 429, headers: Object.fromEntries(res.headers) });
 *       acq.update(adaptiveUsage('requests'));
 *       return await res.text();
 *     } catch (e) {
 *       acq.update(adaptiveUsage('requests', e));
 *       throw e;
 *     } finally {
 *       acq.release();
 *     }
 *   }
 * }
 * const pool = Client.options({
 *   mode: 'thread',
 *   maxWorkers: 4,
 *   limits: new AdaptiveLimit({ key: 'requests', window: 'second', initial: 10, ceiling: 1000 }),
 * }).init();
 * ```
 */
export class AdaptiveLimit implements LimitsLike {
  readonly kind: 'rate' | 'concurrency';
  readonly key: string;
  readonly window: number;
  readonly floor: number;
  readonly ceiling: number;
  private readonly aimd: Aimd;
  private readonly clock: Clock;
  private readonly isOverload: (ctx: { error: unknown }) => boolean;
  private readonly configValue: Record<string, unknown>;
  private readonly waiters: AdaptiveWaiter[] = [];
  private readonly listeners = new Set<(change: AdaptiveChange) => void>();
  private inFlight = 0;
  /** Rate: when the next unit may be granted. */
  private nextAt = -Infinity;
  /** Nothing is granted before this (a Retry-After). */
  private pausedUntil = -Infinity;
  private readonly wakeTimer: WakeTimer;
  private granted = 0;
  private refused = 0;
  /** Rate: when the refused calls of the last window were granted. */
  private readonly refusedInWindow?: WindowCount;
  /** Rate: the grants of the last window. */
  private readonly grantedInWindow?: WindowCount;
  private firstGrantAt?: number;

  constructor(options: AdaptiveLimitOptions) {
    const s = checkOptions(options);
    this.kind = s.kind;
    this.key = s.key;
    this.window = s.window;
    this.floor = s.floor;
    this.ceiling = s.ceiling;
    this.clock = options.clock ?? systemClock;
    this.wakeTimer = new WakeTimer(this.clock, () => this.pump());
    this.isOverload = options.isOverload ?? rateLimitErrors;
    this.configValue = { ...(options.config ?? {}) };
    this.aimd = new Aimd(s, this.clock.now());
    if (this.kind === 'rate') {
      this.refusedInWindow = new WindowCount(this.window);
      this.grantedInWindow = new WindowCount(this.window);
    }
  }

  /** The value granted now: calls per window (rate) or calls at once (concurrency). */
  get value(): number {
    const v = this.aimd.value;
    if (this.kind === 'concurrency') return Math.floor(v);
    // Whole units once that is precise enough (a change event per unit, not per success), kept
    // inside the bounds that rounding could cross.
    const shown = v >= 10 ? Math.round(v) : Math.round(v * 100) / 100;
    return Math.min(this.ceiling, Math.max(this.floor, shown));
  }

  get config(): Record<string, unknown> {
    return { ...this.configValue };
  }

  /** Calls `listener` on every change of {@link value}; returns the unsubscribe function. */
  on(event: 'change', listener: (change: AdaptiveChange) => void): () => void {
    if (event !== 'change') throw configError('event', event, "'change'");
    if (typeof listener !== 'function') throw configError('listener', listener, 'a function');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal Outcomes are reported through update(); nothing must be. */
  needsUpdate(): boolean {
    return false;
  }

  acquire(requested: Requested = {}, acquireOptions?: AcquireOptions): Promise<Acquisition> {
    let n: number;
    let options: AcquireOptions;
    try {
      n = this.amountOf(requested);
      options = checkAcquireOptions(acquireOptions);
    } catch (error) {
      return rejectFailedCheck(error);
    }
    if (this.waiters.length === 0 && this.fits(n) === 0) return Promise.resolve(this.grant(n, false));
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    return new Promise<Acquisition>((resolve, reject) => {
      const waiter: AdaptiveWaiter = { n, resolve, reject, signal: options.signal, saturated: true };
      armWaiter(this.clock, waiter, options, (error) => this.drop(waiter, error));
      this.waiters.push(waiter);
      this.pump();
    });
  }

  tryAcquire(requested: Requested = {}): Acquisition | undefined {
    const n = this.amountOf(requested);
    return this.waiters.length === 0 && this.fits(n) === 0 ? this.grant(n, false) : undefined;
  }

  /**
   * Acquires, runs `fn`, reports the outcome (success; an error `isOverload` accepts as overload,
   * with its Retry-After; other errors as no signal) and releases.
   */
  async run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R> {
    return runAcquired(this, requested, async (acq) => {
      try {
        const out = await fn(acq);
        acq.update(adaptiveUsage(this.key));
        return out;
      } catch (error) {
        acq.update(adaptiveUsage(this.key, error, this.isOverload));
        throw error;
      }
    });
  }

  stats(): Record<string, unknown> {
    return {
      [this.key]: {
        kind: `adaptive-${this.kind}`,
        value: this.value,
        floor: this.floor,
        ceiling: this.ceiling,
        ...(this.kind === 'rate' ? { window: this.window } : { held: this.inFlight }),
        phase: this.aimd.slowStart ? 'slow-start' : 'additive',
        increases: this.aimd.increases,
        decreases: this.aimd.decreases,
        granted: this.granted,
        refused: this.refused,
        pausedForMs: Math.max(0, this.pausedUntil - this.clock.now()),
        latency: this.aimd.latency(),
      },
      waiting: this.waiters.length,
    };
  }

  /** @internal An acquisition was released: its outcome adapts the value; its slot is free. */
  finish(grant: Grant): void {
    if (this.kind === 'concurrency') this.inFlight -= grant.n;
    const outcome = grant.outcome;
    const accepted = outcome?.get(this.key);
    if (accepted !== undefined) {
      const now = this.clock.now();
      const before = this.value;
      let reason: AdaptiveReason | undefined;
      if (accepted > 0) {
        reason = this.aimd.success(grant.epoch, now - grant.at, grant.saturated, now);
      } else {
        this.refused++;
        const wait = outcome!.get(RETRY_AFTER_KEY);
        // Every refusal pauses the grants (the provider said when it has room again); only the first of an epoch cuts.
        if (wait !== undefined && wait > 0) this.pausedUntil = Math.max(this.pausedUntil, now + wait);
        this.refusedInWindow?.add(grant.at);
        reason = this.aimd.overload(grant.epoch, now, this.acceptedRate(now));
      }
      if (reason !== undefined && this.value !== before) this.changed(before, reason, now);
    }
    this.pump();
  }

  /**
   * Rate: what the provider takes, per window — the grants of the last window it did not refuse,
   * spread over the window and any pause still to wait. Calls that failed otherwise (a 503, a
   * timeout) still used its rate, and counting only the successes would put the last good value a
   * failure rate below the provider's limit.
   */
  private acceptedRate(now: number): number | undefined {
    if (this.grantedInWindow === undefined || this.refusedInWindow === undefined) return undefined;
    const accepted = Math.max(0, this.grantedInWindow.count(now) - this.refusedInWindow.count(now));
    // A Retry-After is part of the answer: the window's calls and then the pause before the next
    // one is the rate the provider takes. A provider that halved its limit says "wait 800 ms" with its
    // first refusal, and the cut follows it at once instead of one refusal per provider window.
    const pause = Math.max(0, this.pausedUntil - now);
    return (accepted * this.window) / (this.window + pause);
  }

  private changed(from: number, reason: AdaptiveReason, at: number): void {
    const change: AdaptiveChange = { key: this.key, from, to: this.value, reason, at };
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // a listener's bug must not break the limit
      }
    }
  }

  private amountOf(requested: Requested): number {
    if (requested === null || typeof requested !== 'object') throw new ConfigError(`acquire(): requested must be an object of amounts by key, got ${String(requested)}`);
    // Other keys are ignored: worker code written for a LimitSet of requests + tokens runs unchanged.
    const n = requested[this.key] ?? 1;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ConfigError(`acquire(): amount for '${this.key}' must be an integer >= 0, got ${String(n)}`);
    if (this.kind === 'concurrency' && n > this.floor) throw new ConfigError(`acquire(): requested ${n} of '${this.key}' but its floor is ${this.floor}; larger requests could wait forever`);
    return n;
  }

  /** ms until `n` fits (0 = now; Infinity = when a call is released). */
  private fits(n: number): number {
    const now = this.clock.now();
    const paused = this.pausedUntil - now;
    if (this.kind === 'concurrency') return paused > 0 ? paused : this.inFlight + n <= this.value ? 0 : Infinity;
    return Math.max(paused, this.nextAt - now, 0);
  }

  /** `queued`: the grant goes to a caller that waited for it (woken by the timer), not to one that just came. */
  private grant(n: number, saturated: boolean, queued = false): Acquisition {
    const now = this.clock.now();
    if (this.kind === 'concurrency') {
      this.inFlight += n;
      saturated ||= this.inFlight >= this.value;
    } else {
      // Even spacing: value per window. A queued caller's grant that comes late (its timer fired
      // a ms or two after the slot was due) keeps the slot's time, or every late timer would
      // lower the rate: at 400/s with real timers, spacing from the grant's own time gave 305/s.
      // A slot nobody was waiting for, one that fell in a pause (Retry-After), or one more than
      // CATCH_UP_MS late is not made up for: spacing starts again from now, with no burst.
      const late = queued && this.nextAt >= now - CATCH_UP_MS && this.nextAt >= this.pausedUntil;
      this.nextAt = (late ? this.nextAt : Math.max(now, this.nextAt)) + (n * this.window) / this.aimd.value;
      this.grantedInWindow!.add(now);
      // Tested only if it was used: most of a window's worth granted (TCP's cwnd validation) —
      // pro rata in the first window, which has not had a whole window to fill (at least a tenth of it).
      this.firstGrantAt ??= now;
      const covered = Math.min(1, Math.max(now - this.firstGrantAt, this.window / 10) / this.window);
      // With callers still queued behind the grant, 40% of it is enough: a value growing fast
      // (slow start) never has most of its newest window granted and would stall on 80%. Not much less:
      // a client too slow to use its grants (late timers on a starved machine) keeps a queue too,
      // and must not inflate a value it cannot send at.
      const used = this.grantedInWindow!.count(now) / (this.aimd.value * covered);
      saturated = used >= (saturated && this.waiters.length > 0 ? QUEUED_SATURATED_SHARE : SATURATED_SHARE);
    }
    this.granted += n;
    const grant: Grant = { n, epoch: this.aimd.epoch, at: now, saturated };
    return new AdaptiveAcquisition(grant, this, new Map([[this.key, n]]), this.configValue);
  }

  /** Serves waiters from the head while they fit, then sleeps until the head can. */
  private pump(): void {
    this.wakeTimer.cancel();
    while (this.waiters.length > 0) {
      const head = this.waiters[0];
      const wait = this.fits(head.n);
      if (wait === 0) {
        this.waiters.shift();
        disarmWaiter(this.clock, head);
        head.resolve(this.grant(head.n, head.saturated, true));
        continue;
      }
      this.wakeTimer.set(wait);
      return;
    }
  }

  private drop(waiter: AdaptiveWaiter, error: unknown): void {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    disarmWaiter(this.clock, waiter);
    waiter.reject(error);
    if (i === 0) this.pump();
  }
}
