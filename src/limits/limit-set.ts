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
import { threadId } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { checkClock, checkDuration, checkOptionsArgument, checkRecord, configError, rejectUnknownKeys, show } from '../config/validate.js';
import { Acquisition, LimitUsageError, type AcquisitionOwner } from './acquisition.js';
import { createAlgorithm, type RateAlgorithm, type RateAlgorithmName } from './algorithms.js';
import { CallLimit, RateLimit, ResourceLimit, isLimit, type Limit } from './limit.js';
import { WakeTimer, abortError, armWaiter, disarmWaiter, type Waiter } from './waiters.js';

/** Options of {@link LimitSet}. */
export interface LimitSetOptions {
  /** Metadata copied into every acquisition (`acq.config`), e.g. `{ region: 'eu', apiKey }`. */
  config?: Record<string, unknown>;
  clock?: Clock;
}

/** Options of `acquire()`. */
export interface AcquireOptions {
  /** Give up after this many ms with TimeoutError. */
  timeout?: number;
  signal?: AbortSignal;
}

/** Amounts to acquire by key; Call and Resource limits not named are taken with 1. */
export type Requested = Record<string, number>;

interface KeyState {
  limit: Limit;
  rate?: RateAlgorithm;
  /** Index of this key in `held` and in a thread's holdings. */
  index: number;
}

/** A limit as plain data, to rebuild it in another thread. */
type LimitData = { kind: Limit['kind']; key: string; capacity: number; window?: number; algorithm?: RateAlgorithmName };

/** What a shared set sends to a worker thread (all cloneable; the buffers are shared, not copied). */
export interface SharedLimitSetState {
  limits: LimitData[];
  /** Per key, in order: the rate algorithm's state, or null for a resource. */
  rates: (Float64Array | null)[];
  /** Resource units held, per key. */
  held: Float64Array;
  /** [lock, waiters at the owner]. */
  sync: Int32Array;
  /** What this worker thread holds through its own fast path, per key (given back if it dies). */
  holdings: Float64Array;
  /** The owner's performance.timeOrigin: every thread counts ms on the owner's clock. */
  timeOrigin: number;
  config: Record<string, unknown>;
}

/** How an attached set (in a worker thread) reaches the owning set for what it cannot grant itself. */
export interface OwnerLink {
  /** Acquires through the owner: waits in its FIFO queue. */
  acquire(requested: Requested, options: AcquireOptions): Promise<Acquisition>;
  /** Something was released here while requests wait at the owner: it should try to serve them. */
  released(): void;
}

const LOCK = 0;
const WAITERS = 1;
/** Lock word of a thread: never 0 (free). */
const LOCKED_BY_THIS_THREAD = threadId + 1;

interface SetWaiter extends Waiter {
  amounts: Map<string, number>;
}

/** The surface workers use as `this.limits`; LimitSet and LimitPool both have it. */
export interface LimitsLike {
  acquire(requested?: Requested, options?: AcquireOptions): Promise<Acquisition>;
  tryAcquire(requested?: Requested): Acquisition | undefined;
  run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R>;
  stats(): Record<string, unknown>;
  readonly config: Record<string, unknown>;
}

export class LimitSet implements LimitsLike, AcquisitionOwner {
  private readonly states = new Map<string, KeyState>();
  private readonly waiters: SetWaiter[] = [];
  private readonly clock: Clock;
  private readonly configValue: Record<string, unknown>;
  private readonly wakeTimer: WakeTimer;
  private readonly warnedKeys = new Set<string>();
  /** Resource units held, by key index (moves to shared memory when shared). */
  private held: Float64Array;
  /** Set once shared with threads: [lock, waiters]. Every touch of the counters then takes the lock. */
  private sync?: Int32Array;
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
    const origin = state.timeOrigin;
    const ownerClock: Clock = { ...systemClock, now: () => performance.timeOrigin + performance.now() - origin };
    const set = new LimitSet(state.limits.map(limitFromData), { config: state.config, clock: ownerClock });
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
    this.sync = state.sync;
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
      const sync = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
      const held = new Float64Array(new SharedArrayBuffer(Math.max(1, this.states.size) * Float64Array.BYTES_PER_ELEMENT));
      held.set(this.held);
      this.held = held;
      for (const s of this.states.values()) s.rate?.share();
      sync[WAITERS] = this.waiters.length;
      this.sync = sync;
    }
    return {
      limits: [...this.states.values()].map((s) => limitToData(s.limit)),
      rates: [...this.states.values()].map((s) => s.rate?.share() ?? null),
      held: this.held,
      sync: this.sync,
      holdings: new Float64Array(new SharedArrayBuffer(Math.max(1, this.states.size) * Float64Array.BYTES_PER_ELEMENT)),
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
    if (this.sync) Atomics.compareExchange(this.sync, LOCK, deadThreadId + 1, 0);
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
      return Promise.reject(error);
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

  /** @internal */
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
    return this.owner ? Atomics.load(this.sync!, WAITERS) : this.waiters.length;
  }

  /** Publishes the queue length to attached threads (under the lock). */
  private countWaiters(): void {
    if (this.sync) Atomics.store(this.sync, WAITERS, this.waiters.length);
  }

  /**
   * Only with shared memory: a spin lock (critical sections are a few arithmetic operations).
   * The lock word names the holder's thread, so a holder that dies can be detected.
   */
  private lock(): void {
    const sync = this.sync;
    if (!sync) return;
    if (Atomics.compareExchange(sync, LOCK, 0, LOCKED_BY_THIS_THREAD) !== 0) lockContended(sync);
  }

  private unlock(): void {
    if (this.sync) Atomics.store(this.sync, LOCK, 0);
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

/** Longer than any live holder keeps the lock (a few arithmetic operations, or a GC pause). */
const STUCK_LOCK_MS = 1000;

/**
 * Spins until the lock is free. A thread terminated inside the critical section never frees it;
 * its exit event frees it (LimitSet.threadGone), but this thread may be the one that must process
 * that event — so a lock held by the same thread for {@link STUCK_LOCK_MS} is taken over.
 */
function lockContended(sync: Int32Array): void {
  let holder = 0;
  let heldSince = 0;
  for (let spins = 1; ; spins++) {
    const seen = Atomics.compareExchange(sync, LOCK, 0, LOCKED_BY_THIS_THREAD);
    if (seen === 0) return;
    if (spins % 1024 !== 0) continue;
    const now = performance.now();
    if (seen !== holder) {
      holder = seen;
      heldSince = now;
    } else if (now - heldSince > STUCK_LOCK_MS && Atomics.compareExchange(sync, LOCK, seen, LOCKED_BY_THIS_THREAD) === seen) {
      process.emitWarning(`A shared LimitSet's lock was held by thread ${seen - 1} for over ${STUCK_LOCK_MS} ms; taken over (that thread died holding it)`, {
        code: 'CONCURRY_LIMIT_LOCK_TAKEN_OVER',
      });
      return;
    }
  }
}

function limitToData(limit: Limit): LimitData {
  return limit.kind === 'resource'
    ? { kind: 'resource', key: limit.key, capacity: limit.capacity }
    : { kind: limit.kind, key: limit.key, capacity: limit.capacity, window: limit.window, algorithm: limit.algorithm };
}

function limitFromData(d: LimitData): Limit {
  if (d.kind === 'resource') return new ResourceLimit({ key: d.key, capacity: d.capacity });
  if (d.kind === 'call') return new CallLimit({ window: d.window!, capacity: d.capacity, algorithm: d.algorithm });
  return new RateLimit({ key: d.key, window: d.window!, capacity: d.capacity, algorithm: d.algorithm });
}


const NO_OPTIONS: AcquireOptions = Object.freeze({});

/** Checks acquire()'s options (an object with an optional timeout >= 0 and an AbortSignal); used by every kind of set. */
export function checkAcquireOptions(options: AcquireOptions | undefined): AcquireOptions {
  if (options === undefined) return NO_OPTIONS; // the common case, on the hot path: no allocation
  const o = checkOptionsArgument('acquire()', options);
  checkDuration('acquire({ timeout })', o.timeout);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw configError('acquire({ signal })', o.signal, 'an AbortSignal');
  return o;
}

/** An empty set: never blocks. */
export function emptyLimitSet(): LimitSet {
  return new LimitSet([]);
}

/**
 * The amounts an acquire() takes, by key, for any set whose limits are `limits` (in-process or in
 * Redis): validated; unknown keys warn once (per `warned`) and are ignored; Call/Resource limits
 * not named are taken with 1.
 */
export function amountsOf(
  requested: Requested,
  limits: ReadonlyMap<string, { readonly limit: { readonly kind: string; readonly capacity: number } }>,
  warned: Set<string>,
): Map<string, number> {
  if (requested === null || typeof requested !== 'object' || Array.isArray(requested)) {
    throw new ConfigError(`acquire(): requested must be an object of amounts by key, e.g. { tokens: 100 }, got ${show(requested)}`);
  }
  const amounts = new Map<string, number>();
  let named = false; // no Object.keys() array per acquire: this is the hot path
  for (const [key, n] of Object.entries(requested)) {
    named = true;
    const entry = limits.get(key);
    if (!entry) {
      if (!warned.has(key)) {
        warned.add(key);
        process.emitWarning(`acquire(): no limit named '${key}' in this set (known: ${[...limits.keys()].join(', ') || 'none'}); ignored`, {
          code: 'CONCURRY_LIMIT_UNKNOWN_KEY',
        });
      }
      continue;
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw configError(`acquire({ ${key} })`, n, `an integer from 0 to ${entry.limit.capacity} (the limit's capacity)`);
    }
    if (n > entry.limit.capacity) {
      throw new ConfigError(`acquire(): requested ${n} of '${key}' but its capacity is ${entry.limit.capacity}; this request could never be granted`);
    }
    if (n > 0) amounts.set(key, n);
  }
  if (!named) refuseUnnamedRates(limits);
  for (const [key, { limit }] of limits) if (limit.kind !== 'rate' && !(key in requested)) amounts.set(key, 1);
  return amounts;
}

/**
 * `acquire()` with no amounts takes every Call and Resource limit with 1 — but a RateLimit has no
 * sensible default amount, and skipping it would bypass it silently (Python concurry raises too).
 */
function refuseUnnamedRates(limits: ReadonlyMap<string, { readonly limit: { readonly kind: string } }>): void {
  const rates = [...limits].filter(([, { limit }]) => limit.kind === 'rate').map(([key]) => key);
  if (rates.length === 0) return;
  throw new LimitUsageError(
    `acquire(): no amounts given, but this set holds RateLimit ${rates.map((k) => `'${k}'`).join(', ')}; ` +
      `name the amount to take, e.g. acquire({ ${rates.map((k) => `${k}: n`).join(', ')} }) (a RateLimit is never bypassed silently)`,
  );
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
