import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, ConfigError, WorkerCrashedError, WorkerInitError, gather, type Mode } from '../../src/index.js';
import { AlwaysBroken, Member } from '../fixtures/pool-workers.js';

export const POOL_MODES: Mode[] = ['async', 'thread', 'process'];

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
    // Both workers up first: a worker still starting when the slow call ends (slow machine) would
    // leave the slow worker idle again by the second fast call, which is then rightly sent to it.
    await pool.ready();
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
    if (mode === 'async') expect(Member.built - before).toBe(5);
    expect(pool.stats().pool!.workers.length).toBe(0);
  });

  it('stop() cancels calls waiting in the pool FIFO', async () => {
    const pool = Member.options({ mode, maxWorkers: 2, maxQueuedTasks: 1 }).init();
    await pool.ready();
    const futures = Array.from({ length: 5 }, () => pool.hold(300));
    await new Promise((r) => setTimeout(r, 100)); // the first two are running now
    await pool.stop({ timeout: 1000 });
    const outcomes = await Promise.all(futures.map((f) => f.then(() => 'ok', (e) => e)));
    expect(outcomes.filter((o) => o === 'ok').length).toBe(2);
    expect(outcomes.filter((o) => o instanceof CancelledError).length).toBe(3);
  });

  it('validates pool options', () => {
    expect(() => Member.options({ mode, maxWorkers: 0 })).toThrow(ConfigError);
    expect(() => Member.options({ mode, loadBalancing: 'fastest' as any })).toThrow(/'loadBalancing': got "fastest"; expected one of 'round-robin'/);
    expect(() => Member.options({ mode, maxQueuedTasks: 1.5 })).toThrow(/maxQueuedTasks/);
    expect(() => Member.options({ mode, resourceLimits: { maxOldGenMb: 10 } as any })).toThrow("Unknown resourceLimits option 'maxOldGenMb'");
  });
});

describe.each(['thread', 'process'] as Mode[])('crash recovery in %s pools', (mode) => {
  it('replaces a worker that exits mid-call; running calls fail, queued calls move, nothing hangs', async () => {
    const pool = track(Member.options({ mode, maxWorkers: 2, loadBalancing: 'round-robin' }).init());
    await pool.ready();
    const dying = pool.die('exit'); // worker 0
    const onOther = pool.hold(10); // worker 1
    const behindDying = pool.whoAmI(); // worker 0, queued behind the dying call
    await expect(dying).rejects.toBeInstanceOf(WorkerCrashedError);
    expect((await onOther).id).toBeTruthy();
    expect(typeof (await behindDying)).toBe('string');
    const ids = await gather(Array.from({ length: 6 }, () => pool.whoAmI()));
    expect(new Set(ids).size).toBe(2);
    expect(pool.stats().pool!.workers[0]!.replacements).toBe(1);
  });

  it('re-sends a running call to a live worker when its method has numRetries', async () => {
    const pool = track(Member.options({ mode, maxWorkers: 2, numRetries: { '*': 0, die: 1 } }).init());
    await pool.ready();
    // The call dies on the first worker, is re-sent once, dies again: then it fails.
    const e = await pool.die('throw').catch((x) => x);
    expect(e).toBeInstanceOf(WorkerCrashedError);
    expect(e.message).toMatch(/worker blew up/);
    expect(pool.stats().pool!.workers.reduce((a, w) => a + w.replacements, 0)).toBe(2);
    expect(typeof (await pool.whoAmI())).toBe('string');
  });

  it('SIGKILL of a pool member: its calls settle, a replacement appears, the old process is gone', async () => {
    if (mode !== 'process') return;
    const pool = track(Member.options({ mode, maxWorkers: 2 }).init());
    const [pidA] = await gather([pool.pid(), pool.pid()]);
    const running = pool.hold(2000); // goes to worker 0 (round-robin restarts there)
    await new Promise((r) => setTimeout(r, 100));
    process.kill(pidA, 'SIGKILL');
    await expect(running).rejects.toBeInstanceOf(WorkerCrashedError);
    const pids = await gather(Array.from({ length: 4 }, () => pool.pid()));
    expect(pids).not.toContain(pidA);
  });

  it('a thread that runs out of memory under resourceLimits is replaced; its call fails with WorkerCrashedError', async () => {
    if (mode !== 'thread') return;
    const pool = track(Member.options({ mode, maxWorkers: 2, resourceLimits: { maxOldGenerationSizeMb: 32 } }).init());
    await pool.ready();
    const e = await pool.exhaustMemory().catch((x) => x);
    expect(e).toBeInstanceOf(WorkerCrashedError);
    expect(e.message).toMatch(/Worker thread of Member .*while running Member\.exhaustMemory/);
    const ids = await gather(Array.from({ length: 4 }, () => pool.whoAmI()));
    expect(new Set(ids).size).toBe(2);
    expect(pool.stats().pool!.workers[0]!.replacements).toBe(1);
  });

  it('a constructor that keeps failing stops the pool with WorkerInitError instead of respawning', async () => {
    const pool = track(AlwaysBroken.options({ mode, maxWorkers: 2 }).init());
    await expect(pool.ready()).rejects.toBeInstanceOf(WorkerInitError);
    await expect(pool.work()).rejects.toBeInstanceOf(WorkerInitError);
  });
});
