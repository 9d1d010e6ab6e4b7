/**
 * How a pool picks the worker for the next call. Every balancer sees the same per-worker counters
 * and breaks ties toward the lowest index, so dispatch is deterministic (random aside).
 */
import type { RandomSource } from '../clock.js';

export type LoadBalancing = 'round-robin' | 'least-active' | 'least-total' | 'random';
export const LOAD_BALANCING: readonly LoadBalancing[] = ['round-robin', 'least-active', 'least-total', 'random'];

/** What a balancer may look at for worker i. */
export interface WorkerLoad {
  /** Calls sent to the worker and not settled. */
  active: number;
  /** Calls ever sent to the worker. */
  dispatched: number;
}

export interface Balancer {
  /** Picks among the indices in `eligible` (non-empty, ascending). */
  select(loads: readonly WorkerLoad[], eligible: readonly number[]): number;
  stats(): Record<string, unknown>;
}

export function createBalancer(kind: LoadBalancing, random: RandomSource = Math.random, offset = 0): Balancer {
  switch (kind) {
    case 'round-robin': {
      let counter = offset;
      return {
        select(loads, eligible) {
          // Walk forward from the counter to the next eligible worker, so a full worker is skipped
          // without breaking the rotation of the others.
          const n = loads.length;
          for (let step = 0; step < n; step++) {
            const i = (counter + step) % n;
            if (eligible.includes(i)) {
              counter = i + 1;
              return i;
            }
          }
          return eligible[0]!;
        },
        stats: () => ({ algorithm: 'round-robin', offset, counter }),
      };
    }
    case 'least-active':
      return {
        select: (loads, eligible) => argMin(eligible, (i) => loads[i]!.active),
        stats: () => ({ algorithm: 'least-active' }),
      };
    case 'least-total':
      return {
        select: (loads, eligible) => argMin(eligible, (i) => loads[i]!.dispatched),
        stats: () => ({ algorithm: 'least-total' }),
      };
    case 'random':
      return {
        select: (_loads, eligible) => eligible[Math.min(eligible.length - 1, Math.floor(random() * eligible.length))]!,
        stats: () => ({ algorithm: 'random' }),
      };
  }
}

function argMin(indices: readonly number[], key: (i: number) => number): number {
  let best = indices[0]!;
  let bestKey = key(best);
  for (let k = 1; k < indices.length; k++) {
    const i = indices[k]!;
    const v = key(i);
    if (v < bestKey) {
      best = i;
      bestKey = v;
    }
  }
  return best;
}
