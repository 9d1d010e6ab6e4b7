import { describe, expect, it } from 'vitest';
import { createBalancer, type WorkerLoad } from '../../src/pool/balancers.js';
import { seededRandom } from '../../src/index.js';

const loads = (active: number[], dispatched = active.map(() => 0)): WorkerLoad[] =>
  active.map((a, i) => ({ active: a, dispatched: dispatched[i]! }));
const all = (_n: number) => () => true;
const only = (indices: number[]) => (i: number) => indices.includes(i);

describe('balancers', () => {
  it('round-robin cycles from its offset and skips full workers without losing its place', () => {
    const rr = createBalancer('round-robin', Math.random, 1);
    const l = loads([0, 0, 0]);
    expect([0, 1, 2, 3, 4].map(() => rr.select(l, all(3)))).toEqual([1, 2, 0, 1, 2]);
    const skip = createBalancer('round-robin');
    expect(skip.select(l, only([0, 2]))).toBe(0);
    expect(skip.select(l, only([0, 2]))).toBe(2);
    expect(skip.select(l, only([0, 1, 2]))).toBe(0);
    expect(skip.select(l, only([]))).toBe(-1);
  });

  it('least-active picks the fewest active calls, ties to the lowest index', () => {
    const b = createBalancer('least-active');
    expect(b.select(loads([2, 1, 1]), all(3))).toBe(1);
    expect(b.select(loads([0, 0, 0]), all(3))).toBe(0);
    expect(b.select(loads([0, 3, 0]), only([1, 2]))).toBe(2);
  });

  it('least-total picks the fewest dispatched calls, ties to the lowest index', () => {
    const b = createBalancer('least-total');
    expect(b.select(loads([9, 0, 0], [1, 5, 1]), all(3))).toBe(0);
    expect(b.select(loads([0, 0, 0], [4, 2, 3]), all(3))).toBe(1);
  });

  it('random spreads over eligible workers, reproducibly with a seed', () => {
    const counts = [0, 0, 0, 0];
    const b = createBalancer('random', seededRandom(7));
    for (let i = 0; i < 4000; i++) counts[b.select(loads([0, 0, 0, 0]), all(4))]!++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    const again = createBalancer('random', seededRandom(7));
    const first = createBalancer('random', seededRandom(7));
    expect([1, 2, 3].map(() => again.select(loads([0, 0]), all(2)))).toEqual([1, 2, 3].map(() => first.select(loads([0, 0]), all(2))));
  });
});
