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
  /**
   * Picks a worker index among those `eligible` accepts, or -1 when none does. Runs on every call
   * of a pool, so it allocates nothing.
   */
  select(loads: readonly WorkerLoad[], eligible: (i: number) => boolean): number;
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
            if (eligible(i)) {
              counter = i + 1;
              return i;
            }
          }
          return -1;
        },
        stats: () => ({ algorithm: 'round-robin', offset, counter }),
      };
    }
    case 'least-active':
      return {
        select: (loads, eligible) => argMin(loads, eligible, (l) => l.active),
        stats: () => ({ algorithm: 'least-active' }),
      };
    case 'least-total':
      return {
        select: (loads, eligible) => argMin(loads, eligible, (l) => l.dispatched),
        stats: () => ({ algorithm: 'least-total' }),
      };
    case 'random':
      return {
        select(loads, eligible) {
          let count = 0;
          for (let i = 0; i < loads.length; i++) if (eligible(i)) count++;
          if (count === 0) return -1;
          let pick = Math.min(count - 1, Math.floor(random() * count));
          for (let i = 0; i < loads.length; i++) if (eligible(i) && pick-- === 0) return i;
          return -1;
        },
        stats: () => ({ algorithm: 'random' }),
      };
  }
}

/** The eligible index with the smallest key; ties go to the lowest index. */
function argMin(loads: readonly WorkerLoad[], eligible: (i: number) => boolean, key: (l: WorkerLoad) => number): number {
  let best = -1;
  let bestKey = Infinity;
  for (let i = 0; i < loads.length; i++) {
    if (!eligible(i)) continue;
    const v = key(loads[i]);
    if (v < bestKey) {
      best = i;
      bestKey = v;
    }
  }
  return best;
}
