import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, ConfigError, gather, type Mode } from '../../src/index.js';
import { Member } from '../fixtures/pool-workers.js';

export const POOL_MODES: Mode[] = ['async'];

const handles: { stop(): Promise<void> }[] = [];
const track = <T extends { stop(): Promise<void> }>(h: T): T => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

describe.each(POOL_MODES)('pools in %s mode', (mode) => {
  it('spreads calls round-robin over maxWorkers workers with the single-worker API', async () => {
    const pool = track(Member.options({ mode, maxWorkers: 3 }).init());
    await pool.ready();
    const ids = await gather(Array.from({ length: 6 }, () => pool.whoAmI()));
    expect(new Set(ids).size).toBe(3);
    expect(ids.slice(0, 3)).toEqual(ids.slice(3));
    const stats = pool.stats();
    expect(stats.pool!.workers.map((w) => w.dispatched)).toEqual([2, 2, 2]);
    expect(stats.pool!.dispatched).toBe(6);
    expect(stats.methods.whoAmI!.successes).toBe(6);
  });

  it('least-active sends a new call to an idle worker', async () => {
    const pool = track(Member.options({ mode, maxWorkers: 2, loadBalancing: 'least-active' }).init());
    const slow = pool.hold(80);
    const fast = [await pool.whoAmI(), await pool.whoAmI()];
    const { id: slowId } = await slow;
    expect(fast.every((id) => id !== slowId)).toBe(true);
  });

  it('never has more than maxQueuedTasks calls in flight per worker; the caller never blocks', async () => {
    const pool = track(Member.options({ mode, maxWorkers: 2, maxQueuedTasks: 2, maxConcurrency: 10 }).init());
    const futures = Array.from({ length: 12 }, () => pool.hold(15));
    const s = pool.stats().pool!;
    expect(s.queued).toBe(8);
    expect(s.workers.map((w) => w.active)).toEqual([2, 2]);
    const results = await gather(futures);
    expect(Math.max(...results.map((r) => r.peak))).toBe(2);
    expect(pool.stats().pool!.queued).toBe(0);
  });

  it('onDemand starts a fresh worker per call, at most maxWorkers at once, torn down after', async () => {
    const before = Member.built;
    const pool = track(Member.options({ mode, onDemand: true, maxWorkers: 2 }).init());
    const futures = Array.from({ length: 5 }, () => pool.hold(10));
    expect(pool.stats().pool!.workers.length).toBe(2);
    const results = await gather(futures);
    expect(new Set(results.map((r) => r.id)).size).toBe(5);
    expect(Member.built - before).toBe(5);
    expect(pool.stats().pool!.workers.length).toBe(0);
  });

  it('stop() cancels calls waiting in the pool FIFO', async () => {
    const pool = Member.options({ mode, maxWorkers: 2, maxQueuedTasks: 1 }).init();
    const futures = Array.from({ length: 5 }, () => pool.hold(20));
    await new Promise((r) => setTimeout(r, 5)); // the first two are running now
    await pool.stop({ timeout: 1000 });
    const outcomes = await Promise.all(futures.map((f) => f.then(() => 'ok', (e) => e)));
    expect(outcomes.filter((o) => o === 'ok').length).toBe(2);
    expect(outcomes.filter((o) => o instanceof CancelledError).length).toBe(3);
  });

  it('validates pool options', () => {
    expect(() => Member.options({ mode, maxWorkers: 0 })).toThrow(ConfigError);
    expect(() => Member.options({ mode, loadBalancing: 'fastest' as any })).toThrow(/'loadBalancing': got "fastest"; expected one of 'round-robin'/);
    expect(() => Member.options({ mode, maxQueuedTasks: 1.5 })).toThrow(/maxQueuedTasks/);
  });
});
