/**
 * What a LimitSet shared with worker threads sends to each of them (see LimitSet.shareWithThreads
 * and LimitSet.attach): its limits as plain data, and the shared memory its counters live in. All of
 * it is cloneable; the buffers are shared, not copied.
 */
import { systemClock, type Clock } from '../clock.js';
import type { Acquisition } from './acquisition.js';
import type { RateAlgorithmName } from './algorithms.js';
import { CallLimit, RateLimit, ResourceLimit, type Limit } from './limit.js';
import type { AcquireOptions, Requested } from './limits-like.js';

/** A limit as plain data, to rebuild it in another thread. */
type LimitData = { kind: Limit['kind']; key: string; capacity: number; window?: number; algorithm?: RateAlgorithmName };

/** What a shared set sends to a worker thread. */
export interface SharedLimitSetState {
  limits: LimitData[];
  /** Per key, in order: the rate algorithm's state, or null for a resource. */
  rates: (Float64Array | null)[];
  /** Resource units held, per key. */
  held: Float64Array;
  /** [lock, waiters at the owner] (see SharedLock). */
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

/** `length` numbers (at least one) on new shared memory, all 0. */
export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, length) * Float64Array.BYTES_PER_ELEMENT));
}

/** The clock of the thread whose performance.timeOrigin is `origin`, read from this thread. */
export function ownerClock(origin: number): Clock {
  return { ...systemClock, now: () => performance.timeOrigin + performance.now() - origin };
}

export function limitToData(limit: Limit): LimitData {
  return limit.kind === 'resource'
    ? { kind: 'resource', key: limit.key, capacity: limit.capacity }
    : { kind: limit.kind, key: limit.key, capacity: limit.capacity, window: limit.window, algorithm: limit.algorithm };
}

export function limitFromData(d: LimitData): Limit {
  if (d.kind === 'resource') return new ResourceLimit({ key: d.key, capacity: d.capacity });
  if (d.kind === 'call') return new CallLimit({ window: d.window!, capacity: d.capacity, algorithm: d.algorithm });
  return new RateLimit({ key: d.key, window: d.window!, capacity: d.capacity, algorithm: d.algorithm });
}
