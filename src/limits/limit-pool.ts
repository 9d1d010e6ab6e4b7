/**
 * Several LimitSets (one per account, region, key…) behind one `acquire`: each acquisition draws
 * on one set, chosen round-robin (starting at the worker's index, so a pool's workers spread out)
 * or at random. `acq.config` tells which set was picked.
 */
import { ConfigError } from '../errors.js';
import { checkInteger, checkOneOf, checkOptionsArgument, checkRandom, rejectUnknownKeys, show } from '../config/validate.js';
import type { RandomSource } from '../clock.js';
import type { Acquisition } from './acquisition.js';
import { LimitSet } from './limit-set.js';
import { runAcquired, type AcquireOptions, type LimitsLike, type Requested } from './limits-like.js';

export interface LimitPoolOptions {
  loadBalancing?: 'round-robin' | 'random';
  /** Where round-robin starts; a pool's worker i uses i. */
  workerIndex?: number;
  random?: RandomSource;
}

/** What a LimitPool draws on: a LimitSet, or any set with the same surface (distributed hosts pool sets kept in Redis). */
function isPooledSet(value: unknown): value is LimitsLike {
  if (value instanceof LimitSet) return true;
  const v = value as Partial<LimitsLike> | null;
  return typeof v === 'object' && v !== null && typeof v.acquire === 'function' && typeof v.tryAcquire === 'function' && typeof v.needsUpdate === 'function';
}

/**
 * Several sets behind one `acquire` (see the module comment). `S` is the kind of set pooled: a
 * pool of LimitSets answers `tryAcquire()` and `stats()` at once, like a LimitSet.
 */
export class LimitPool<S extends LimitsLike = LimitSet> implements LimitsLike {
  readonly sets: readonly S[];
  private readonly loadBalancing: 'round-robin' | 'random';
  private counter: number;
  private readonly random: RandomSource;

  private readonly options: LimitPoolOptions;

  constructor(sets: S[], poolOptions?: LimitPoolOptions) {
    if (!Array.isArray(sets) || sets.length === 0) throw new ConfigError(`LimitPool needs an array of at least one LimitSet, got ${show(sets)}`);
    for (const s of sets) if (!isPooledSet(s)) throw new ConfigError(`LimitPool takes LimitSets, got ${show(s)}`);
    const options = (this.options = checkOptionsArgument('new LimitPool()', poolOptions));
    rejectUnknownKeys('LimitPool option', options, ['loadBalancing', 'workerIndex', 'random']);
    this.sets = [...sets];
    this.loadBalancing = options.loadBalancing === undefined ? 'round-robin' : checkOneOf('LimitPool.loadBalancing', options.loadBalancing, ['round-robin', 'random']);
    this.counter = options.workerIndex === undefined ? 0 : checkInteger('LimitPool.workerIndex', options.workerIndex, 0);
    this.random = options.random === undefined ? Math.random : checkRandom('LimitPool.random', options.random);
  }

  /** Whether `key` is a RateLimit that must be updated with actual usage before release (in any set). */
  needsUpdate(key: string): boolean {
    return this.sets.some((s) => s.needsUpdate(key));
  }

  /** The same sets seen from pool worker `index` (its own round-robin position). */
  forWorker(index: number): LimitPool<S> {
    return new LimitPool<S>([...this.sets], { ...this.options, workerIndex: index });
  }

  /** @internal How this pool picks a set (thread workers rebuild it over shared memory). */
  get rotation(): 'round-robin' | 'random' {
    return this.loadBalancing;
  }

  get config(): Record<string, unknown> {
    return this.sets[0].config;
  }

  private pick(): S {
    if (this.loadBalancing === 'random') return this.sets[Math.floor(this.random() * this.sets.length)];
    return this.sets[this.counter++ % this.sets.length];
  }

  acquire(requested?: Requested, options?: AcquireOptions): Promise<Acquisition> {
    return this.pick().acquire(requested, options);
  }

  /** Tries the next set; answers as that kind of set does (at once for LimitSets). */
  tryAcquire(requested?: Requested): ReturnType<S['tryAcquire']> {
    // TypeScript widens a generic S's method call to LimitsLike's return type; it is S's own.
    return this.pick().tryAcquire(requested) as ReturnType<S['tryAcquire']>;
  }

  run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R> {
    return runAcquired(this, requested, fn);
  }

  stats(): Record<string, unknown> {
    return { loadBalancing: this.loadBalancing, next: this.counter % this.sets.length, sets: this.sets.map((s) => s.stats()) };
  }
}
