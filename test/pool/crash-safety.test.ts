/**
 * What a pool promises when a worker dies (docs/modes.md, "When a worker dies"): a call that may
 * have started never runs again unless its numRetries allows it, a call the worker never started
 * runs elsewhere, a call that killed a worker kills one, a dead member gets no more calls, and a
 * replacement that fails to start is started again — or the pool gives up with WorkerInitError.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TimeoutError, WorkerCrashedError, WorkerInitError, type Mode } from '../../src/index.js';
import { executions, FlakyStart, Journaled } from '../fixtures/crash-workers.js';

const dir = mkdtempSync(join(tmpdir(), 'concurry-crash-'));
let files = 0;
const tempFile = () => join(dir, `f${files++}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const handles: { stop(o?: { timeout?: number }): Promise<void> }[] = [];
const track = <T extends { stop(o?: { timeout?: number }): Promise<void> }>(h: T): T => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop({ timeout: 1000 })));
});

const replacements = (pool: { stats(): { pool?: { workers: { replacements: number }[] } } }) =>
  pool.stats().pool!.workers.reduce((sum, w) => sum + w.replacements, 0);

type Outcome = PromiseSettledResult<number>;

/** Resolves once `condition` holds (checked every 20 ms, for at most 30 s). */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 30_000) throw new Error('condition not met within 30 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every call but `killer` ran once and resolved with `2 i`; the killer ran once and failed with `error`. */
function expectExactlyOnce(journal: string, outcomes: Outcome[], killer: number, error: RegExp, errorClass: new (...a: any[]) => Error = WorkerCrashedError) {
  const runs = executions(journal);
  const wrong = outcomes.flatMap((o, i) => {
    if (i === killer) return [];
    const ran = runs.get(`c${i}`) ?? 0;
    return o.status === 'fulfilled' && o.value === 2 * i && ran === 1 ? [] : [{ i, ran, outcome: o.status === 'fulfilled' ? o.value : String(o.reason) }];
  });
  expect(wrong).toEqual([]);
  expect(runs.get('killer')).toBe(1);
  const killed = outcomes[killer]!;
  expect(killed.status).toBe('rejected');
  const reason = (killed as PromiseRejectedResult).reason;
  expect(reason).toBeInstanceOf(errorClass);
  expect(reason.message).toMatch(error);
}

describe.each(['thread', 'process'] as Mode[])('exactly once after a crash in %s pools (numRetries: 0)', (mode) => {
  it('40 calls, one runs process.exit(): the others run once and resolve; the killer fails and kills one worker', async () => {
    const journal = tempFile();
    const pool = track(Journaled.options({ mode, maxWorkers: 2, numRetries: 0 }).init(journal));
    await pool.ready();
    const killer = 17;
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => (i === killer ? pool.kill('killer', 'exit') : pool.work(`c${i}`, i))));
    expectExactlyOnce(journal, outcomes, killer, /exited with code 3 while running Journaled\.kill$/);
    expect(replacements(pool)).toBe(1);
    expect(await pool.work('after', 21)).toBe(42);
  }, 120_000);

  it('a worker terminated by a per-call timeout: the others run once; the timed-out call is not run again', async () => {
    const journal = tempFile();
    const pool = track(Journaled.options({ mode, maxWorkers: 2, numRetries: 0, timeout: { '*': null, spin: 300 }, timeoutGrace: 100 }).init(journal));
    await pool.ready();
    const killer = 9;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => (i === killer ? pool.spin('killer', 60_000) : pool.slowWork(`c${i}`, i, 2))),
    );
    expectExactlyOnce(journal, outcomes, killer, /Journaled\.spin timed out after 300 ms/, TimeoutError);
    expect(replacements(pool)).toBe(1);
  }, 120_000);
});

describe('exactly once after a SIGKILL in process pools (numRetries: 0)', () => {
  it('40 calls, one SIGKILLs its own process: the others run once and resolve; the killer fails and kills one worker', async () => {
    const journal = tempFile();
    const pool = track(Journaled.options({ mode: 'process', maxWorkers: 2, numRetries: 0 }).init(journal));
    await pool.ready();
    const killer = 17;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => (i === killer ? pool.kill('killer', 'sigkill') : pool.slowWork(`c${i}`, i, 2))),
    );
    expectExactlyOnce(journal, outcomes, killer, /killed by SIGKILL while running Journaled\.kill$/);
    expect(replacements(pool)).toBe(1);
  }, 120_000);

  it('a flood of tiny calls: a SIGKILL never makes a call run twice, and fails at most the calls marked ahead', async () => {
    const journal = tempFile();
    const pool = track(Journaled.options({ mode: 'process', maxWorkers: 2, numRetries: 0 }).init(journal));
    await pool.ready();
    const n = 3000;
    const killer = 1500;
    const outcomes = await Promise.allSettled(Array.from({ length: n }, (_, i) => (i === killer ? pool.kill('killer', 'sigkill') : pool.work(`c${i}`, i))));
    const runs = executions(journal);
    let failed = 0;
    for (let i = 0; i < n; i++) {
      const o = outcomes[i]!;
      if (i === killer) continue;
      expect(runs.get(`c${i}`) ?? 0).toBeLessThanOrEqual(1);
      if (o.status === 'fulfilled') {
        expect(o.value).toBe(2 * i);
        expect(runs.get(`c${i}`)).toBe(1);
      } else {
        expect(o.reason).toBeInstanceOf(WorkerCrashedError);
        failed++;
      }
    }
    // Calls that ran but whose results were still batched, plus calls marked started ahead of time:
    // never more than a worker's calls in flight (maxQueuedTasks, 100 in process mode).
    expect(failed).toBeLessThanOrEqual(100);
    expect(replacements(pool)).toBe(1);
  }, 120_000);
});

describe.each([
  ['thread', 10_000],
  ['process', 2000],
] as [Mode, number][])('a worker death in a loaded %s pool', (mode, n) => {
  it(`${n} calls queued on 2 workers, one exits: the dead member gets no more calls, everything settles once`, async () => {
    const journal = tempFile();
    const pool = track(Journaled.options({ mode, maxWorkers: 2, numRetries: 0 }).init(journal));
    await pool.ready();
    const killer = Math.floor(n / 3);
    const outcomes = await Promise.allSettled(Array.from({ length: n }, (_, i) => (i === killer ? pool.kill('killer', 'exit') : pool.work(`c${i}`, i))));
    expectExactlyOnce(journal, outcomes, killer, /exited with code 3 while running Journaled\.kill$/);
    expect(replacements(pool)).toBe(1);
    // Each call dispatched once, plus once more for the calls the dead worker handed back (at most its share).
    const { dispatched, queued } = pool.stats().pool!;
    expect(dispatched).toBeLessThanOrEqual(n + n / 2);
    expect(queued).toBe(0);
  }, 120_000);

  it(`${n} calls queued on 2 workers, a per-call timeout terminates one: everything settles once`, async () => {
    const journal = tempFile();
    const pool = track(Journaled.options({ mode, maxWorkers: 2, numRetries: 0, timeout: { '*': null, spin: 3000 }, timeoutGrace: 100 }).init(journal));
    await pool.ready();
    const killer = Math.floor(n / 3);
    const outcomes = await Promise.allSettled(Array.from({ length: n }, (_, i) => (i === killer ? pool.spin('killer', 60_000) : pool.work(`c${i}`, i))));
    const runs = executions(journal);
    let neverRan = 0;
    for (let i = 0; i < n; i++) {
      if (i === killer) continue;
      const o = outcomes[i]!;
      const ran = runs.get(`c${i}`) ?? 0;
      expect(ran).toBeLessThanOrEqual(1);
      if (o.status === 'fulfilled') expect([o.value, ran]).toEqual([2 * i, 1]);
      else expect(o.reason).toBeInstanceOf(WorkerCrashedError);
      if (ran === 0) neverRan++;
    }
    // Results of calls that finished in the same synchronous run as the spinning call were still
    // batched when its worker was terminated: those fail as crashed, and are not run again. Thread
    // workers know exactly which calls started: the others ran on the replacement. A process worker
    // marks short calls as started a few at a time (at most MAX_AHEAD = 64), so up to 63 of those
    // fail without having run.
    expect(neverRan).toBeLessThanOrEqual(mode === 'thread' ? 0 : 63);
    const failed = outcomes.filter((o, i) => i !== killer && o.status === 'rejected');
    expect(failed.length).toBeLessThanOrEqual(512);
    expect((outcomes[killer] as PromiseRejectedResult).reason).toBeInstanceOf(TimeoutError);
    expect(replacements(pool)).toBe(1);
    expect(pool.stats().pool!.dispatched).toBeLessThanOrEqual(n + n / 2);
  }, 120_000);
});

describe.each(['thread', 'process'] as Mode[])('replacements that fail to start in %s pools', (mode) => {
  it('both replacements die while starting: each is started again, queued calls all run, nothing hangs', async () => {
    const starts = tempFile();
    // Starts 1 and 2 are the pool's; 3 and 4 (the replacements of two crashed workers) fail.
    const pool = track(FlakyStart.options({ mode, maxWorkers: 2, numRetries: 0 }).init(starts, [3, 4]));
    await pool.ready();
    const killers = [pool.exit(), pool.exit()];
    const queued = Array.from({ length: 50 }, (_, i) => pool.ok(i));
    for (const k of killers) await expect(k).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await Promise.all(queued)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // One restarted worker may have served every call before the other one is up again.
    await until(() => executions(starts).get('start') === 6);
    expect(replacements(pool)).toBe(4);
    expect(await pool.ok(7)).toBe(7);
  }, 120_000);

  it('a start that keeps failing: WorkerInitError after 3 failed starts in a row; queued and later calls reject, none hangs', async () => {
    const starts = tempFile();
    const pool = track(FlakyStart.options({ mode, maxWorkers: 2, numRetries: 0 }).init(starts, [], 3));
    await pool.ready();
    const killers = [pool.exit(), pool.exit()];
    const queued = Array.from({ length: 20 }, (_, i) => pool.ok(i));
    for (const k of killers) await expect(k).rejects.toBeInstanceOf(WorkerCrashedError);
    const outcomes = await Promise.allSettled(queued);
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      const reason = (o as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(WorkerInitError);
      expect(reason.message).toMatch(/FlakyStart constructor failed: start \d+ fails/);
    }
    await expect(pool.ok(1)).rejects.toBeInstanceOf(WorkerInitError);
    // Two workers, each started once, then at most 3 times more before the pool gives up.
    const n = executions(starts).get('start')!;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThanOrEqual(8);
  }, 120_000);
});
