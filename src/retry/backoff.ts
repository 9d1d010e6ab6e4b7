/** Backoff waits. k is the 1-based attempt that just failed; w the base wait; all ms. */
import type { RandomSource } from '../clock.js';
import type { RetryPolicy } from './options.js';

function fib(k: number): number {
  let a = 1;
  let b = 1;
  for (let i = 2; i < k; i++) [a, b] = [b, a + b];
  return k <= 2 ? 1 : b;
}

/** The wait before the next attempt, before jitter: the algorithm's value, capped at retryMaxWait. */
export function baseWait(policy: Pick<RetryPolicy, 'algorithm' | 'wait' | 'maxWait'>, k: number, previousWait?: number, random: RandomSource = Math.random): number {
  const w = policy.wait;
  let c: number;
  switch (policy.algorithm) {
    case 'exponential':
      c = w * 2 ** (k - 1);
      break;
    case 'linear':
      c = w * k;
      break;
    case 'fibonacci':
      c = w * fib(k);
      break;
    case 'constant':
      c = w;
      break;
    case 'decorrelated':
      // AWS "decorrelated jitter": random between w and 3× the previous wait.
      c = w + random() * Math.max(0, 3 * (previousWait ?? w) - w);
      break;
  }
  return Math.min(c, policy.maxWait);
}

/**
 * The wait before attempt k+1: the capped value c, of which the fraction `jitter` is randomized:
 * c·(1−j) + U(0, c·j). Decorrelated jitter is already random, so no further jitter applies.
 */
export function computeWait(policy: Pick<RetryPolicy, 'algorithm' | 'wait' | 'maxWait' | 'jitter'>, k: number, random: RandomSource = Math.random, previousWait?: number): number {
  const c = baseWait(policy, k, previousWait, random);
  if (policy.algorithm === 'decorrelated' || policy.jitter === 0) return c;
  return c * (1 - policy.jitter) + random() * c * policy.jitter;
}
