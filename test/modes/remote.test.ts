import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, LimitPool, LimitSet, ResourceLimit, TaskWorker, TimeoutError, WorkerCrashedError, WorkerInitError, gather, type Mode } from '../../src/index.js';
import { Alias, ApiError, Remote } from '../fixtures/remote-workers.js';

const exec = promisify(execFile);
const handles: { stop(o?: { timeout?: number }): Promise<void> }[] = [];
const track = <T extends { stop(o?: { timeout?: number }): Promise<void> }>(h: T): T => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop({ timeout: 1000 })));
});

/** Resolves once `condition` holds (checked every 10 ms, for at most 10 s). */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 10_000) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.each(['thread', 'process'] as Mode[])('%s mode', (mode) => {
  it('runs in another thread/process', async () => {
    const w = track(Remote.options({ mode }).init());
    if (mode === 'process') expect(await w.pid()).not.toBe(process.pid);
    else expect(await w.threadId()).toBeGreaterThan(0);
  });

  it('keeps error class, code, status and the cause chain', async () => {
    const w = track(Remote.options({ mode }).init());
    const e = (await w.chained().exception()) as ApiError;
    expect(e.name).toBe('ApiError');
    expect(e.message).toBe('upstream failed');
    expect(e.code).toBe('E_UPSTREAM');
    expect(e.status).toBe(502);
    expect(e.stack).toMatch(/chained/);
    expect(e.cause).toBeInstanceOf(TypeError);
    expect((e.cause as Error).message).toBe('bad gateway');
    expect(((e.cause as Error).cause as any).code).toBe('ECONNRESET');
    const agg = (await w.aggregate().exception()) as AggregateError;
    expect(agg).toBeInstanceOf(AggregateError);
    expect(agg.errors.map((x: Error) => x.message)).toEqual(['a', 'b']);
    expect(agg.errors[0]).toBeInstanceOf(RangeError);
  });

  it('fails only the call whose argument or result cannot be cloned, naming it', async () => {
    const w = track(Remote.options({ mode }).init());
    const bad = w.echo(Symbol('nope') as any);
    const good = w.echo(7);
    await expect(bad).rejects.toThrow(/Argument 1 of Remote.echo cannot be sent to the worker/);
    expect(await good).toBe(7);
    await expect(w.returnsFunction()).rejects.toThrow(/The result of Remote.returnsFunction cannot be sent back/);
    expect(await w.count()).toBe(1);
  });

  it('in a batch of thousands, fails only the uncloneable call and result; the others settle in order', async () => {
    const w = track(Remote.options({ mode }).init());
    const n = 3000;
    const calls = Array.from({ length: n }, (_, i) => (i === 1700 ? w.echo((() => i) as any) : i === 2100 ? w.echoFunctionOf(i) : w.echo(i)));
    const outcomes = await Promise.allSettled(calls);
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [[i, String(o.reason.message)]] : []));
    expect(failed).toEqual([
      [1700, expect.stringMatching(/^Argument 1 of Remote.echo cannot be sent to the worker/)],
      [2100, expect.stringMatching(/^The result of Remote.echoFunctionOf cannot be sent back from the worker/)],
    ]);
    const values = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    expect(values).toEqual(Array.from({ length: n }, (_, i) => i).filter((i) => i !== 1700 && i !== 2100));
  });

  it('reuses wire slots safely: every result reaches its own call while others are in flight', async () => {
    const w = track(Remote.options({ mode, maxWorkers: 2 }).init());
    const expected: number[] = [];
    const inFlight: Promise<unknown>[] = [];
    for (let wave = 0; wave < 20; wave++) {
      for (let i = 0; i < 700; i++) {
        const v = wave * 1000 + i;
        expected.push(v);
        inFlight.push(w.echo(v));
        if (i % 97 === 0) w.echo(-1).cancel();
      }
      await inFlight[inFlight.length - 350]; // half of this wave may still be running when the next starts
    }
    expect(await Promise.all(inFlight)).toEqual(expected);
  });

  it('a worker that exits is replaced: the running call rejects with WorkerCrashedError, queued calls run on the new one', async () => {
    const w = track(Remote.options({ mode }).init());
    await w.count();
    const dying = w.exitNow(7);
    const queued = w.count();
    await expect(dying).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(dying).rejects.toThrow(/exited with code 7 while running Remote.exitNow/);
    expect(await queued).toBe(1); // re-sent to the replacement: a fresh instance counts from 0
    expect(await w.count()).toBe(2);
    expect(w.stats().pool!.workers[0]!.replacements).toBe(1);
  });

  it('an uncaught exception in the worker rejects its calls clearly', async () => {
    const w = track(Remote.options({ mode }).init());
    const scheduled = w.throwUncaught();
    const hang = w.hang();
    expect(await scheduled).toBe('scheduled');
    const e = await hang.catch((x) => x);
    expect(e).toBeInstanceOf(WorkerCrashedError);
    expect(e.message).toMatch(/uncaught in worker/);
  });

  it('stop({ timeout }) ends a hanging method and leaves no thread/process behind', async () => {
    const w = Remote.options({ mode }).init();
    const pid = mode === 'process' ? await w.pid() : undefined;
    const hanging = w.hang();
    const t0 = performance.now();
    await w.stop({ timeout: 100 });
    expect(performance.now() - t0).toBeLessThan(5000);
    await expect(hanging).rejects.toThrow();
    if (pid) {
      await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
    }
  });

  it('a class that cannot be located fails with the one line to add', async () => {
    const w = track(Alias.options({ mode }).init());
    const e = await w.ready().catch((x) => x);
    expect(e).toBeInstanceOf(WorkerInitError);
    expect(e.message).toMatch(/Could not find class Hidden/);
    expect(e.message).toMatch(/static module = import\.meta\.url;/);
  });

  it('shares a ResourceLimit across 4 workers: never more than 2 holders, and it reaches 2', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(8));
    const limits = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 2 })]);
    const pool = track(Remote.options({ mode, maxWorkers: 4, limits }).init());
    if (mode === 'thread') {
      // Every worker up first: on a loaded machine threads that start 60 ms apart each ran their
      // three calls alone, and the limit never had two holders to show.
      await pool.ready();
      const holders = await gather(Array.from({ length: 12 }, () => pool.holdResource(20, counter)));
      expect(Math.max(...holders)).toBe(2);
      expect(Atomics.load(counter, 1)).toBe(2);
    }
    expect((limits.stats().slots as any).available).toBe(2);
  });

  it('a ResourceLimit hammered by 4 workers is never over-granted and is whole afterwards', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(8));
    const limits = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 2 })]);
    const pool = track(Remote.options({ mode, maxWorkers: 4, limits }).init());
    const most = await gather(Array.from({ length: 4 }, () => pool.hammer(mode === 'thread' ? 3000 : 300, counter)));
    expect(Math.max(...most)).toBeLessThanOrEqual(2);
    expect(limits.stats()).toMatchObject({ slots: { held: 0, available: 2 }, waiting: 0 });
  });

  it('a worker that dies holding a resource gives it back', async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 1 })]);
    const dying = track(Remote.options({ mode, limits }).init());
    await expect(dying.grabAndDie()).rejects.toBeInstanceOf(WorkerCrashedError);
    const other = track(Remote.options({ mode, limits }).init());
    expect(await other.takeSlot()).toBe('got it');
  });

  it('retry predicates and validators travel to the worker; closures are refused before sending', async () => {
    const w = track(Remote.options({ mode, numRetries: 2, retryWait: 1, retryUntil: (n: number) => n >= 3 || `only ${n}` }).init());
    expect(await w.count()).toBe(3);
    const limit = 3;
    expect(() => Remote.options({ mode, retryUntil: (n: number) => n >= limit }).init()).toThrow(/uses 'limit' from its enclosing scope/);
  });

  it('TaskWorker functions travel by source; closures fail naming the variable and the fix', async () => {
    const tw = track(TaskWorker.options({ mode }).init());
    expect(await tw.submit((a: number, b: number) => a * b, 6, 7)).toBe(42);
    expect(await tw.submit(async (p: string) => (await import('node:path')).basename(p), '/a/b.txt')).toBe('b.txt');
    const factor = 3;
    expect(() => tw.submit((x: number) => x * factor, 2)).toThrow(/uses 'factor' from its enclosing scope.*Pass it as an argument/);
  });

  it('events from retries inside the worker reach the caller; stats count them', async () => {
    const w = track(Remote.options({ mode, numRetries: 3, retryWait: 1, retryUntil: (n: number) => n >= 2 || 'too low' }).init());
    const seen: string[] = [];
    w.on('validation-failed', (e) => seen.push(e.reason));
    w.on('retry-success', (e) => seen.push(`success after ${e.attempts}`));
    expect(await w.count()).toBe(2);
    expect(seen).toEqual(['too low', 'success after 2']);
    expect(w.stats().methods.count).toMatchObject({ retries: 1, validationFailures: 1, successes: 1, attempts: 2 });
  });
});

describe('thread workers share a LimitSet through shared memory', () => {
  it('tryAcquire and stats work inside the worker and see the same counters as the caller', async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 1 })]);
    const w = track(Remote.options({ mode: 'thread', limits }).init());
    expect(await w.peekLimits()).toEqual({ got: true, stats: { slots: expect.objectContaining({ held: 1, available: 0 }), waiting: 0 } });
    const mine = limits.tryAcquire()!;
    expect(await w.peekLimits()).toEqual({ got: false, stats: { slots: expect.objectContaining({ held: 1, available: 0 }), waiting: 0 } });
    mine.release();
  });

  it('a thread killed while churning the shared counters leaves them whole and unlocked', async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 2 })]);
    for (let round = 0; round < 3; round++) {
      const w = track(Remote.options({ mode: 'thread', limits, timeout: 50, timeoutGrace: 50 }).init());
      await w.ready();
      const held = limits.tryAcquire()!; // one slot held here the whole time
      await expect(w.churnLimits(10_000)).rejects.toBeInstanceOf(TimeoutError);
      // It ignores the abort, so its thread is terminated mid-loop after the grace period, and replaced.
      await until(() => w.stats().pool!.workers[0]!.replacements === 1);
      expect(limits.stats()).toMatchObject({ slots: { held: 1 } });
      const other = limits.tryAcquire(); // would spin forever on a lock the dead thread held
      expect(other).toBeDefined();
      other!.release();
      held.release();
      expect(limits.stats()).toMatchObject({ slots: { held: 0, available: 2 } });
      await w.stop();
    }
  });

  it('a LimitPool is shared too: each thread rotates over the accounts from its own index, and waits at the account it picked', async () => {
    const account = (name: string) => new LimitSet([new ResourceLimit({ key: 'slots', capacity: 1 })], { config: { name } });
    const a = account('a');
    const b = account('b');
    const pool = track(Remote.options({ mode: 'thread', maxWorkers: 2, loadBalancing: 'round-robin', limits: new LimitPool([a, b]) }).init());
    await pool.ready();
    // Calls alternate over the two threads; thread 0 starts at account a, thread 1 at b.
    expect(await gather([pool.account(), pool.account(), pool.account(), pool.account()])).toEqual(['a', 'b', 'b', 'a']);
    const mine = a.tryAcquire()!; // account a is busy here
    const waiting = pool.account(); // thread 0 picks a (its rotation says so) and must wait for it
    await until(() => (a.stats() as { waiting: number }).waiting === 1);
    expect((b.stats().slots as { held: number }).held).toBe(0);
    mine.release();
    expect(await waiting).toBe('a');
    expect([a.stats(), b.stats()]).toMatchObject([{ slots: { held: 0 }, waiting: 0 }, { slots: { held: 0 }, waiting: 0 }]);
  });

  // Process workers' tryAcquire() and stats() answer over the channel (await them): test/limits/error-path.test.ts.
});

describe('process lifecycle', () => {
  const script = (body: string) => [
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    `import { Remote } from ${JSON.stringify(new URL('../fixtures/remote-workers.ts', import.meta.url).href)};\n${body}`,
  ];

  it('an idle handle does not keep the parent alive (no stop() needed to exit)', async () => {
    const { stdout } = await exec(process.execPath, script(`const w = Remote.options({ mode: 'process' }).init(); const t = Remote.options({ mode: 'thread' }).init(); console.log(await w.count(), await t.count());`), {
      cwd: new URL('../..', import.meta.url).pathname,
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('1 1');
  });

  /** Starts a parent that prints its process worker's pid once `body` ran, SIGKILLs it, and waits for the child to go. */
  async function childOutlivesParent(body: string): Promise<boolean> {
    const parent = spawn(process.execPath, script(body), {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const childPid = await new Promise<number>((resolve, reject) => {
      parent.stdout!.on('data', (d) => resolve(Number(String(d).trim())));
      parent.on('exit', () => reject(new Error('parent exited early')));
    });
    expect(alive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (alive(childPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return alive(childPid);
  }

  it('child processes exit on their own when the parent is SIGKILLed', async () => {
    expect(await childOutlivesParent(`const w = Remote.options({ mode: 'process' }).init(); console.log(await w.pid()); setInterval(() => {}, 1000);`)).toBe(false);
  });

  it('a child busy in a CPU loop exits within seconds of its parent being SIGKILLed (its watchdog thread notices)', async () => {
    const busy = JSON.stringify(new URL('../fixtures/crash-workers.ts', import.meta.url).href);
    const body = `const { Busy } = await import(${busy});
const w = Busy.options({ mode: 'process' }).init();
const pid = await w.pid();
void w.spin(120000).catch(() => {});
setTimeout(() => console.log(pid), 300);
setInterval(() => {}, 1000);`;
    expect(await childOutlivesParent(body)).toBe(false);
  }, 60_000);
});

describe('bad input', () => {
  it('rejects an unknown mode with ConfigError', () => {
    expect(() => Remote.options({ mode: 'ray' as any })).toThrow(ConfigError);
  });
});
