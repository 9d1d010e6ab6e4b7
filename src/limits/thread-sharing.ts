/**
 * How a worker thread gets its `this.limits` from the caller's limits without a message per
 * acquire: a LimitSet, or a LimitPool of LimitSets, is handed over as shared memory (see
 * LimitSet.shareWithThreads) and rebuilt in the thread over that memory. Anything else (a set on an
 * injected clock, a pool of other kinds of sets) is not shareable and stays behind the channel.
 */
import type { RandomSource } from '../clock.js';
import { LimitPool } from './limit-pool.js';
import { LimitSet } from './limit-set.js';
import type { LimitsLike } from './limits-like.js';
import type { OwnerLink, SharedLimitSetState } from './shared-state.js';

/** What the caller sends to one worker thread. */
export interface ThreadLimitsState {
  /** One state per set; a single set is a pool of one without rotation. */
  sets: SharedLimitSetState[];
  /** Present when the caller's limits are a LimitPool: how this thread rotates over the sets. */
  pool?: { loadBalancing: 'round-robin' | 'random'; workerIndex: number };
}

/** The caller's side of one thread's shared limits. */
export interface SharedWithThread {
  state: ThreadLimitsState;
  /** The caller's sets, by the index the thread uses for them. */
  sets: LimitSet[];
}

/** Shares `limits` with worker thread `workerIndex`, or undefined when they cannot be shared. */
export function shareWithThread(limits: LimitsLike, workerIndex: number): SharedWithThread | undefined {
  if (limits instanceof LimitSet) {
    const state = limits.shareWithThreads();
    return state && { state: { sets: [state] }, sets: [limits] };
  }
  if (limits instanceof LimitPool && limits.sets.every((s) => s instanceof LimitSet)) {
    const sets = limits.sets;
    const states = sets.map((s) => s.shareWithThreads());
    if (states.some((s) => s === undefined)) return undefined;
    return { state: { sets: states as SharedLimitSetState[], pool: { loadBalancing: limits.rotation, workerIndex } }, sets: [...sets] };
  }
  return undefined;
}

/** In the worker thread: `this.limits` over the shared memory; `link(i)` reaches the caller's set i. */
export function attachThreadLimits(state: ThreadLimitsState, link: (setIndex: number) => OwnerLink, random?: RandomSource): LimitsLike {
  const sets = state.sets.map((s, i) => LimitSet.attach(s, link(i)));
  if (!state.pool) return sets[0];
  return new LimitPool(sets, { loadBalancing: state.pool.loadBalancing, workerIndex: state.pool.workerIndex, random });
}
