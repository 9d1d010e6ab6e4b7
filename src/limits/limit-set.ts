/**
 * A set of limits acquired together, all or nothing. Waiters are served strictly first come, first
 * served (a big request at the head is never overtaken by small ones), and wait on a timer set for
 * the moment the head can fit, or until something is released — never by polling.
 */
import { AbortError, ConfigError, TimeoutError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { Acquisition, type AcquisitionOwner } from './acquisition.js';
import { createAlgorithm, type RateAlgorithm } from './algorithms.js';
import { isLimit, type Limit } from './limit.js';

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
  held: number;
}

interface Waiter {
  amounts: Map<string, number>;
  resolve: (a: Acquisition) => void;
  reject: (e: unknown) => void;
  timer?: unknown;
  onAbort?: () => void;
  signal?: AbortSignal;
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
  private readonly waiters: Waiter[] = [];
  private readonly clock: Clock;
  private readonly configValue: Record<string, unknown>;
  private wakeTimer: unknown;
  private readonly warnedKeys = new Set<string>();

  constructor(limits: Limit[] = [], options: LimitSetOptions = {}) {
    if (!Array.isArray(limits)) throw new ConfigError(`LimitSet takes an array of limits, got ${typeof limits}`);
    this.clock = options.clock ?? systemClock;
    this.configValue = { ...(options.config ?? {}) };
    const now = this.now();
    for (const limit of limits) {
      if (!isLimit(limit)) throw new ConfigError(`LimitSet: expected RateLimit, CallLimit or ResourceLimit, got ${String(limit)}`);
      if (this.states.has(limit.key)) throw new ConfigError(`LimitSet: duplicate limit key '${limit.key}'`);
      this.states.set(limit.key, {
        limit,
        rate: limit.kind === 'resource' ? undefined : createAlgorithm(limit.algorithm, limit.capacity, limit.window, now),
        held: 0,
      });
    }
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
  acquire(requested: Requested = {}, options: AcquireOptions = {}): Promise<Acquisition> {
    let amounts: Map<string, number>;
    try {
      amounts = this.amountsFor(requested);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.waiters.length === 0 && this.waitFor(amounts) === 0) return Promise.resolve(this.take(amounts));
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    return new Promise<Acquisition>((resolve, reject) => {
      const waiter: Waiter = { amounts, resolve, reject, signal: options.signal };
      if (options.timeout !== undefined) {
        if (!(options.timeout >= 0)) return reject(new RangeError(`acquire(): timeout must be >= 0 ms, got ${options.timeout}`));
        waiter.timer = this.clock.setTimeout(() => this.drop(waiter, new TimeoutError(`Limits not acquired within ${options.timeout} ms`)), options.timeout);
      }
      if (options.signal) {
        waiter.onAbort = () => this.drop(waiter, abortError(options.signal!));
        options.signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Acquires at once if everything fits and nobody is waiting; otherwise undefined (nothing held). */
  tryAcquire(requested: Requested = {}): Acquisition | undefined {
    const amounts = this.amountsFor(requested);
    if (this.waiters.length === 0 && this.waitFor(amounts) === 0) return this.take(amounts);
    return undefined;
  }

  /** Acquires, runs `fn`, releases — also when `fn` throws. */
  run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R> {
    return runAcquired(this, requested, fn);
  }

  /** Per key: what the algorithm knows (available, utilization, …) and the waiters. */
  stats(): Record<string, unknown> {
    const now = this.now();
    const out: Record<string, unknown> = {};
    for (const [key, s] of this.states) {
      out[key] = s.rate
        ? { kind: s.limit.kind, ...s.rate.stats(now) }
        : { kind: 'resource', held: s.held, available: s.limit.capacity - s.held, capacity: s.limit.capacity, utilization: s.held / s.limit.capacity };
    }
    out.waiting = this.waiters.length;
    return out;
  }

  /** @internal */
  needsUpdate(key: string): boolean {
    return this.states.get(key)?.limit.needsUpdate ?? false;
  }

  /** @internal Returns resources and refunds unused rate amounts, then serves waiters. */
  giveBack(amounts: ReadonlyMap<string, number>, used: ReadonlyMap<string, number>): void {
    const now = this.now();
    for (const [key, n] of amounts) {
      const s = this.states.get(key)!;
      if (s.limit.kind === 'resource') s.held -= n;
      else {
        const u = used.get(key);
        if (u !== undefined && u < n) s.rate!.refund(now, n - u);
      }
    }
    this.pump();
  }

  private now(): number {
    return Math.floor(this.clock.now());
  }

  private amountsFor(requested: Requested): Map<string, number> {
    return amountsOf(requested, this.states, this.warnedKeys);
  }

  /** ms until all of `amounts` fit (0 = now; Infinity = when a resource is released). */
  private waitFor(amounts: Map<string, number>): number {
    const now = this.now();
    let wait = 0;
    for (const [key, n] of amounts) {
      const s = this.states.get(key)!;
      const w = s.rate ? s.rate.waitFor(now, n) : s.held + n <= s.limit.capacity ? 0 : Infinity;
      if (w > wait) wait = w;
    }
    return wait;
  }

  private take(amounts: Map<string, number>): Acquisition {
    const now = this.now();
    for (const [key, n] of amounts) {
      const s = this.states.get(key)!;
      if (s.rate) s.rate.take(now, n);
      else s.held += n;
    }
    return new Acquisition(this, amounts, this.config);
  }

  /** Serves waiters from the head while they fit; then sleeps until the head can. */
  private pump(): void {
    if (this.wakeTimer !== undefined) {
      this.clock.clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
    }
    while (this.waiters.length > 0) {
      const head = this.waiters[0]!;
      const wait = this.waitFor(head.amounts);
      if (wait === 0) {
        this.waiters.shift();
        this.settle(head);
        head.resolve(this.take(head.amounts));
        continue;
      }
      if (Number.isFinite(wait)) {
        this.wakeTimer = this.clock.setTimeout(() => {
          this.wakeTimer = undefined;
          this.pump();
        }, wait);
      }
      return;
    }
  }

  private drop(waiter: Waiter, error: unknown): void {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    this.settle(waiter);
    waiter.reject(error);
    if (i === 0) this.pump();
  }

  private settle(waiter: Waiter): void {
    if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}

function abortError(signal: AbortSignal): AbortError {
  return new AbortError('Limit acquisition aborted', { cause: signal.reason });
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
  if (requested === null || typeof requested !== 'object') {
    throw new ConfigError(`acquire(): requested must be an object of amounts by key, got ${String(requested)}`);
  }
  const amounts = new Map<string, number>();
  for (const [key, n] of Object.entries(requested)) {
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
      throw new ConfigError(`acquire(): amount for '${key}' must be an integer >= 0, got ${String(n)}`);
    }
    if (n > entry.limit.capacity) {
      throw new ConfigError(`acquire(): requested ${n} of '${key}' but its capacity is ${entry.limit.capacity}; this request could never be granted`);
    }
    if (n > 0) amounts.set(key, n);
  }
  for (const [key, { limit }] of limits) if (limit.kind !== 'rate' && !(key in requested)) amounts.set(key, 1);
  return amounts;
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
