/**
 * The distributed fault soak, small size for `npm test` (the big one: `npm run bench -- soak-distributed`).
 * Hosts SIGKILLed and replaced, Redis restarted losing every key, 10% injected errors (half retried),
 * delivery 'at-most-once': 0 lost, 0 hung, 0 wrong, 0 extra executions of a non-retried call, and
 * the handles serve afterwards.
 *
 * Run twice: with independent handles (the distributed transport's own delivery guarantee) and with
 * one pool on top, whose crash handling re-sends only calls a worker provably never started (before
 * that rule, 19–30 non-retried calls ran twice per run with a pool).
 */
import { describe, expect, it } from 'vitest';
import { redisServerBinary } from '../helpers/redis.js';
import { runDistributedSoak } from './distributed-soak.js';

describe.runIf(redisServerBinary() !== undefined)('distributed fault soak (small)', () => {
  it.each([
    ['independent handles', false],
    ['one pool', true],
  ])('%s: 2000 calls over 4 instances, a host SIGKILLed every 500, Redis restarted once: nothing lost, hung, wrong or run twice', async (_label, pool) => {
    const report = await runDistributedSoak({ calls: 2000, window: 100, workers: 4, killEvery: 500, redisRestartsAt: [1100], pool });
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ lost: 0, hung: 0, wrong: 0, extraExecutions: 0, afterwardsOk: true, redisRestarts: 1 });
    expect(report.hostsKilled).toBeGreaterThanOrEqual(3);
    // Every call settled one of the expected ways: its result, its injected error, or (at-most-once) WorkerCrashedError.
    expect(report.ok + report.injectedErrors + report.crashed).toBe(2000);
    expect(report.injectedErrors).toBeGreaterThan(0);
    // Most calls were not near a fault.
    expect(report.ok).toBeGreaterThan(1400);
  }, 300_000);
});
