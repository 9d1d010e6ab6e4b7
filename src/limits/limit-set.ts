/**
 * A set of limits acquired together, all or nothing. Waiters are served strictly first come, first
 * served (a big request at the head is never overtaken by small ones), and wait on a timer set for
 * the moment the head can fit, or until something is released — never by polling.
 *
 * Thread workers share a set through shared memory: the set's counters move into a
 * SharedArrayBuffer ({@link LimitSet.shareWithThreads}) and each worker thread attaches a LimitSet
 * to it ({@link LimitSet.attach}). Any thread takes what fits at once under a short lock, when
 * nobody is waiting; everything else (waits, timeouts, FIFO order) is served by the owning set in
 * the caller's thread, over the worker's channel. Same algorithms, same code, either way.
 */
import { ConfigError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { checkClock, checkOptionsArgument, checkRecord, rejectUnknownKeys, show } from '../config/validate.js';
import { Acquisition, type AcquisitionOwner } from './acquisition.js';
import { createAlgorithm, type RateAlgorithm } from './algorithms.js';
import { amountsOf, checkAcquireOptions, rejectFailedCheck } from './amounts.js';
import { isLimit, type Limit } from './limit.js';
import { runAcquired, type AcquireOptions, type LimitsLike, type Requested } from './limits-like.js';
import { SharedLock } from './shared-lock.js';
import { limitFromData, limitToData, ownerClock, sharedFloat64, type OwnerLink, type SharedLimitSetState } from './shared-state.js';
import { WakeTimer, abortError, armWaiter, disarmWaiter, type Waiter } from './waiters.js';

/** Options of {@link LimitSet}. */
export interface LimitSetOptions {
  /** Metadata copied into every acquisition (`acq.config`), e.g. `{ region: 'eu', apiKey }`. */
  config?: Record<string, unknown>;
  clock?: Clock;
}

interface KeyState {
  limit: Limit;
  rate?: RateAlgorithm;
  /** Index of this key in `held` and in a thread's holdings. */
  index: number;
}

interface SetWaiter extends Waiter {
  amounts: Map<string, number>;
}

/** A set of limits acquired together, all or nothing, first come first served (see the module comment). */
export class LimitSet implements LimitsLike, AcquisitionOwner {
  private readonly states = new Map<string, KeyState>();
  private readonly waiters: SetWaiter[] = [];
  private readonly clock: Clock;
  private readonly configValue: Record<string, unknown>;
  private readonly wakeTimer: WakeTimer;
  private readonly warnedKeys = new Set<string>();
  /** Resource units held, by key index (moves to shared memory when shared). */
  private held: Float64Array;
  /** Set once shared with threads. Every touch of the counters then takes this lock. */
  private sync?: SharedLock;
  /** In a worker thread: the owning set, and what this thread holds of it. */
  private owner?: OwnerLink;
  private holdings?: Float64Array;

  constructor(limits: Limit[] = [], setOptions?: LimitSetOptions) {
    if (!Array.isArray(limits)) throw new ConfigError(`LimitSet takes an array of limits, got ${show(limits)}`);
    const options = checkOptionsArgument('new LimitSet()', setOptions);
    rejectUnknownKeys('LimitSet option', options, ['config', 'clock']);
    this.clock = options.clock === undefined ? systemClock : checkClock('LimitSet clock', options.clock);
    this.wakeTimer = new WakeTimer(this.clock, () => this.pump());
    this.configValue = { ...(options.config === undefined ? {} : checkRecord('LimitSet config', options.config)) };
    const now = this.now();
    for (const limit of limits) {
      if (!isLimit(limit)) throw new ConfigError(`LimitSet: expected RateLimit, CallLimit or ResourceLimit, got ${show(limit)}`);
      if (this.states.has(limit.key)) throw new ConfigError(`LimitSet: duplicate limit key '${limit.key}'`);
      this.states.set(limit.key, {
        limit,
        rate: limit.kind === 'resource' ? undefined : createAlgorithm(limit.algorithm, limit.capacity, limit.window, now),
        index: this.states.size,
      });
    }
    this.held = new Float64Array(this.states.size);
  }

  /**
   * In a worker thread: a set working on the shared memory of `state` (from the owner's
   * {@link shareWithThreads}), asking `owner` for whatever it cannot grant at once.
   * @internal
   */
  static attach(state: SharedLimitSetState, owner: OwnerLink): LimitSet {
    const set = new LimitSet(state.limits.map(limitFromData), { config: state.config, clock: ownerClock(state.timeOrigin) });
    set.adopt(state, owner);
    return set;
  }

  /** Works on `state`'s shared memory from now on (a set fresh from the constructor, in a worker thread). */
  private adopt(state: SharedLimitSetState, owner: OwnerLink): void {
    const now = this.now();
    for (const s of this.states.values()) {
      if (s.limit.kind !== 'resource') s.rate = createAlgorithm(s.limit.algorithm, s.limit.capacity, s.limit.window, now, state.rates[s.index]!);
    }
    this.held = state.held;
    this.sync = new SharedLock(state.sync);
    this.holdings = state.holdings;
    this.owner = owner;
  }

  /**
   * Moves the counters into shared memory (once) and describes them for a new worker thread, with
   * a fresh holdings array for that thread. Undefined when the set runs on an injected clock
   * (tests), which other threads cannot share: those go through the channel instead.
   * @internal
   */
  shareWithThreads(): SharedLimitSetState | undefined {
    if (this.clock !== systemClock || this.owner) return undefined;
    if (!this.sync) {
      const held = sharedFloat64(this.states.size);
      held.set(this.held);
      this.held = held;
      for (const s of this.states.values()) s.rate?.share();
      this.sync = SharedLock.create(this.waiters.length);
    }
    return {
      limits: [...this.states.values()].map((s) => limitToData(s.limit)),
      rates: [...this.states.values()].map((s) => s.rate?.share() ?? null),
      held: this.held,
      sync: this.sync.words,
      holdings: sharedFloat64(this.states.size),
      timeOrigin: performance.timeOrigin,
      config: this.config,
    };
  }

  /**
   * A worker thread that attached with `holdings` is gone: what it held through its fast path comes
   * back, and a lock it died holding is freed.
   * @internal
   */
  threadGone(holdings: Float64Array, deadThreadId: number): void {
    this.sync?.freeIfHeldBy(deadThreadId);
    this.lock();
    try {
      for (const s of this.states.values()) {
        if (s.limit.kind === 'resource') this.held[s.index] -= holdings[s.index];
        holdings[s.index] = 0;
      }
    } finally {
      this.unlock();
    }
    this.pump();
  }

  /** @internal an attached set released something while requests wait here. */
  wake(): void {
    this.pump();
  }

  /** A copy of the set's config. */
  get config(): Record<string, unknown> {
    return { ...this.configValue };
  }

  /** The limits in this set. */
  get limits(): Limit[] {
    return [...this.states.values()].map((s) => s.limit);
  }

  /** Acquires every requested amount at once, waiting (FIFO) until all fit. */
  acquire(requested: Requested = {}, acquireOptions?: AcquireOptions): Promise<Acquisition> {
    let amounts: Map<string, number>;
    let options: AcquireOptions;
    try {
      amounts = this.amountsFor(requested);
      options = checkAcquireOptions(acquireOptions);
    } catch (error) {
      return rejectFailedCheck(error);
    }
    const granted = this.takeIfFree(amounts);
    if (granted) return Promise.resolve(granted);
    if (this.owner) return this.owner.acquire(requested, options);
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    return new Promise<Acquisition>((resolve, reject) => {
      const waiter: SetWaiter = { amounts, resolve, reject, signal: options.signal };
      armWaiter(this.clock, waiter, options, (error) => this.drop(waiter, error));
      this.lock();
      this.waiters.push(waiter);
      this.countWaiters();
      this.unlock();
      this.pump();
    });
  }

  /** Acquires at once if everything fits and nobody is waiting; otherwise undefined (nothing held). */
  tryAcquire(requested: Requested = {}): Acquisition | undefined {
    return this.takeIfFree(this.amountsFor(requested));
  }

  /** Acquires, runs `fn`, releases — also when `fn` throws. */
  run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R> {
    return runAcquired(this, requested, fn);
  }

  /** Per key: what the algorithm knows (available, utilization, …) and the waiters. */
  stats(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.lock();
    try {
      const now = this.now();
      for (const [key, s] of this.states) {
        const held = this.held[s.index];
        out[key] = s.rate
          ? { kind: s.limit.kind, ...s.rate.stats(now) }
          : { kind: 'resource', held, available: s.limit.capacity - held, capacity: s.limit.capacity, utilization: held / s.limit.capacity };
      }
      out.waiting = this.waiting();
    } finally {
      this.unlock();
    }
    return out;
  }

  /** Whether `key` is a RateLimit whose acquisitions must report their usage with `update()` before release. */
  needsUpdate(key: string): boolean {
    return this.states.get(key)?.limit.needsUpdate ?? false;
  }

  /** @internal Returns resources and refunds unused rate amounts, then serves waiters. */
  giveBack(amounts: ReadonlyMap<string, number>, used: ReadonlyMap<string, number> | undefined): void {
    let waiting: number;
    this.lock();
    try {
      for (const [key, n] of amounts) {
        const s = this.states.get(key)!;
        if (s.limit.kind === 'resource') {
          this.held[s.index] -= n;
          if (this.holdings) this.holdings[s.index] -= n;
        } else {
          const u = used?.get(key);
          if (u !== undefined && u < n) s.rate!.refund(this.now(), n - u);
        }
      }
      waiting = this.waiting();
    } finally {
      this.unlock();
    }
    if (this.owner) {
      if (waiting > 0) this.owner.released();
    } else {
      this.pump();
    }
  }

  private now(): number {
    return Math.floor(this.clock.now());
  }

  private amountsFor(requested: Requested): Map<string, number> {
    return amountsOf(requested, this.states, this.warnedKeys);
  }

  /** Takes `amounts` now if they fit and nobody waits (in any thread); else undefined, nothing held. */
  private takeIfFree(amounts: Map<string, number>): Acquisition | undefined {
    this.lock();
    try {
      if (this.waiting() > 0 || this.waitFor(amounts) !== 0) return undefined;
      this.take(amounts);
    } finally {
      this.unlock();
    }
    return new Acquisition(this, amounts, this.configValue);
  }

  /** Requests waiting at the owner (the owner's own queue, or what shared memory says it is). */
  private waiting(): number {
    return this.owner ? this.sync!.waiters : this.waiters.length;
  }

  /** Publishes the queue length to attached threads (under the lock). */
  private countWaiters(): void {
    if (this.sync) this.sync.waiters = this.waiters.length;
  }

  /** Only with shared memory: a set no other thread sees needs no lock. */
  private lock(): void {
    this.sync?.lock();
  }

  private unlock(): void {
    this.sync?.unlock();
  }

  /** ms until all of `amounts` fit (0 = now; Infinity = when a resource is released). Under the lock. */
  private waitFor(amounts: Map<string, number>): number {
    let now = -1; // read the clock only for rate limits
    let wait = 0;
    for (const [key, n] of amounts) {
      const s = this.states.get(key)!;
      let w: number;
      if (s.rate) {
        if (now < 0) now = this.now();
        w = s.rate.waitFor(now, n);
      } else {
        w = this.held[s.index] + n <= s.limit.capacity ? 0 : Infinity;
      }
      if (w > wait) wait = w;
    }
    return wait;
  }

  /** Under the lock. */
  private take(amounts: Map<string, number>): void {
    let now = -1;
    for (const [key, n] of amounts) {
      const s = this.states.get(key)!;
      if (s.rate) {
        if (now < 0) now = this.now();
        s.rate.take(now, n);
      } else {
        this.held[s.index] += n;
        if (this.holdings) this.holdings[s.index] += n;
      }
    }
  }

  /** Serves waiters from the head while they fit; then sleeps until the head can. */
  private pump(): void {
    this.wakeTimer.cancel();
    while (this.waiters.length > 0) {
      const head = this.waiters[0];
      this.lock();
      let wait: number;
      try {
        wait = this.waitFor(head.amounts);
        if (wait === 0) {
          this.take(head.amounts);
          this.waiters.shift();
          this.countWaiters();
        }
      } finally {
        this.unlock();
      }
      if (wait === 0) {
        disarmWaiter(this.clock, head);
        head.resolve(new Acquisition(this, head.amounts, this.configValue));
        continue;
      }
      this.wakeTimer.set(wait);
      return;
    }
  }

  private drop(waiter: SetWaiter, error: unknown): void {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.lock();
    this.waiters.splice(i, 1);
    this.countWaiters();
    this.unlock();
    disarmWaiter(this.clock, waiter);
    waiter.reject(error);
    if (i === 0) this.pump();
  }
}

/** An empty set: never blocks. */
export function emptyLimitSet(): LimitSet {
  return new LimitSet([]);
}
