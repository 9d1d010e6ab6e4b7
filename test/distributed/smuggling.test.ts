/**
 * Issue 22 item 1: nothing that arrives from Redis becomes code on a host started without
 * --allow-source-functions. Every smuggling route is tried twice where it can be: as raw jobs
 * pushed straight into Redis (what an attacker with Redis access does), and through the public API.
 * Each attempt must be refused with a clear error AND leave no trace: the smuggled source would
 * write a marker file and set a global that the fixture's probe() reports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostRefusedError, TaskWorker, Worker, WorkerInitError } from '../../src/index.js';
import { redisServerBinary, startRedis, type TestRedis } from '../helpers/redis.js';
import { Attacker, codeRan, smuggledSource } from './attacker.js';
import { Vault } from './fixtures/sec-workers.js';
import { startHost, stopAll, type TestHost } from './hosts.js';

const secModule = new URL('./fixtures/sec-workers.ts', import.meta.url).pathname;
const canRun = redisServerBinary() !== undefined;
let redis: TestRedis;
let hosts: TestHost[] = [];
let attacker: Attacker;
let dir: string;
let marker: string;
let source: string;

const DENY = 'dt-sec';
const ALLOW = 'dt-sec-allow';
const opts = (prefix = DENY) => ({ mode: 'distributed' as const, connection: redis.url, prefix });

beforeAll(async () => {
  if (!canRun) return;
  dir = mkdtempSync(join(tmpdir(), 'concurry-smuggle-'));
  marker = join(dir, 'deny-host-ran-it');
  source = smuggledSource(marker);
  redis = await startRedis();
  attacker = new Attacker(redis.url, DENY);
  hosts = await Promise.all([
    startHost({ redis: redis.url, prefix: DENY, modules: [secModule], concurrency: 16 }),
    startHost({ redis: redis.url, prefix: ALLOW, modules: [secModule], extra: ['--allow-source-functions'] }),
  ]);
}, 60_000);

afterAll(async () => {
  await attacker?.close();
  await stopAll(hosts);
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The host that refuses source functions still serves, and nothing smuggled ran in it. */
async function assertNothingRan(): Promise<void> {
  expect(codeRan(marker)).toBe(false);
  const v = Vault.options(opts()).init();
  try {
    expect(await v.probe()).toEqual({ smuggled: undefined, polluted: [] });
  } finally {
    await v.stop();
  }
}

/** A placement payload as a caller builds it (runtime options as encoded: maxConcurrency is always there). */
const placementOf = (ctorArgs: unknown[], runtimeOptions: object = {}) => ({ ctorArgs, runtimeOptions: { maxConcurrency: 1, ...runtimeOptions }, workerIndex: 0 });

describe.runIf(canRun)('a host without --allow-source-functions runs no code it was sent', () => {
  it('raw placement: a TaskWorker constructor argument { payload: { source } } without the portable tag is refused', async () => {
    for (const cls of ['TaskWorker', 'Tasks', 'MyTasks']) {
      const { caller, instance } = await attacker.place(cls, placementOf([{ payload: { source, name: 'smuggled' } }]));
      // Calls pushed at once: on the old code the first one ran the bound "function".
      await attacker.call(instance, 1, [[1, 'submit', []]]);
      const outcome = await attacker.outcome(caller);
      expect(outcome.ready, cls).toBe(false);
      const error = (outcome as { error: Error }).error;
      expect(error).toBeInstanceOf(WorkerInitError);
      expect(error.cause).toBeInstanceOf(HostRefusedError);
      expect(error.message).toMatch(/refuses a TaskWorker function that is a plain object/);
    }
    await assertNothingRan();
  });

  it('raw placement: tagged source text, as constructor argument or submit() argument, of TaskWorker and of classes re-exporting or extending it', async () => {
    const tagged = { __concurryFn: 'source', payload: { source, name: 'smuggled' } };
    for (const cls of ['TaskWorker', 'Tasks', 'MyTasks']) {
      const bound = await attacker.place(cls, placementOf([tagged]));
      const refused = await attacker.outcome(bound.caller);
      expect(refused.ready).toBe(false);
      expect((refused as { error: Error }).error.message).toMatch(/refuses TaskWorker functions sent as source text \(smuggled\)/);

      const open = await attacker.place(cls, placementOf([]));
      await attacker.call(open.instance, 1, [
        [1, 'submit', [tagged]],
        // Untagged: an argument like any other, never a function.
        [2, 'submit', [{ payload: { source, name: 'smuggled' } }]],
        // A module reference names a module to import: the host never imports it, it looks the export up among its own modules.
        [3, 'submit', [{ __concurryFn: 'module', module: `data:text/javascript,${encodeURIComponent(`${source}; smuggled();`)}`, export: 'smuggled' }]],
        [4, 'submit', [{ __concurryFn: 'module', module: 'file:///anywhere.js', export: 'triple' }, 5]],
      ]);
      expect((await attacker.outcome(open.caller)).ready).toBe(true);
      const results = await attacker.results(open.caller, [1, 2, 3, 4]);
      expect(results.get(1)![1]).toBeInstanceOf(HostRefusedError);
      expect((results.get(1)![1] as Error).message).toMatch(/refuses TaskWorker functions sent as source text/);
      expect((results.get(2)![1] as Error).message).toMatch(/submit\(\) needs a function/);
      expect(results.get(3)![1]).toBeInstanceOf(HostRefusedError);
      expect((results.get(3)![1] as Error).message).toMatch(/no exported function 'smuggled'/);
      expect(results.get(4)).toEqual([true, 15]);
      await attacker.stop(open.instance);
    }
    await assertNothingRan();
  });

  it("raw placement: static references resolve only against the class's own static methods", async () => {
    const names = ['constructor', '__proto__', 'prototype', 'call', 'apply', 'bind', 'toString', 'hasOwnProperty', 'name', 'length', 'options', 'Inner', 'nativeFn', 'bound', 'nope'];
    for (const name of names) {
      const { caller } = await attacker.place('Vault', placementOf([], { retry: { retryUntil: { __static: name }, numRetries: 0 } }));
      const outcome = await attacker.outcome(caller);
      expect(outcome.ready, name).toBe(false);
      const error = (outcome as { error: Error }).error;
      expect(error.cause, name).toBeInstanceOf(HostRefusedError);
      expect(error.message).toContain(`'${name}' is not a static method of Vault on this host`);
    }
    for (const bad of [{ __static: 42 }, { __static: { toString: 'constructor' } }]) {
      const { caller } = await attacker.place('Vault', placementOf([], { retry: { retryUntil: bad } }));
      expect((await attacker.outcome(caller)).ready).toBe(false);
    }
    // The allowed one works, and validates.
    const { caller, instance } = await attacker.place('Vault', placementOf([], { retry: { retryUntil: { __static: 'isOk' }, numRetries: 0 } }));
    await attacker.call(instance, 1, [[1, 'ok', []], [2, 'echo', ['no']]]);
    expect((await attacker.outcome(caller)).ready).toBe(true);
    const results = await attacker.results(caller, [1, 2]);
    expect(results.get(1)).toEqual([true, 'ok']);
    expect((results.get(2)![1] as Error).name).toBe('RetryValidationError');
    await attacker.stop(instance);
    await assertNothingRan();
  });

  it('raw placement: option functions as source text are refused wherever they sit in the options', async () => {
    const fn = { __fn: { source, name: 'smuggled' } };
    for (const retry of [{ retryUntil: fn }, { retryOn: [fn] }, { retryOn: { nested: fn } }, { retryUntil: { __fn: undefined } }, { retryUntil: { __fn: source } }]) {
      const runtimeOptions = { retry };
      const { caller } = await attacker.place('Vault', placementOf([], runtimeOptions));
      const outcome = await attacker.outcome(caller);
      expect(outcome.ready, JSON.stringify(runtimeOptions)).toBe(false);
      expect((outcome as { error: Error }).error.cause).toBeInstanceOf(HostRefusedError);
      expect((outcome as { error: Error }).error.message).toMatch(/refuses functions sent as source text/);
    }
    await assertNothingRan();
  });

  it('raw placement: options a caller never sends are refused, not left to hang every call', async () => {
    for (const runtimeOptions of [{}, { maxConcurrency: 0 }, { maxConcurrency: { toString: 'x' } }]) {
      const { caller, instance } = await attacker.place('Vault', { ctorArgs: [], runtimeOptions, workerIndex: 0 });
      await attacker.call(instance, 1, [[1, 'ok', []]]);
      const outcome = await attacker.outcome(caller);
      expect(outcome.ready).toBe(false);
      expect((outcome as { error: Error }).error.message).toMatch(/refuses a placement whose options are not what a caller sends \(maxConcurrency is (undefined|0|an? \w+)\)/);
    }
  });

  it('public API: a caller-side class merely named TaskWorker gains no source-function powers', async () => {
    // Not concurry's TaskWorker: its handle sends whatever it is given.
    const Impostor = class TaskWorker extends Worker {
      constructor(readonly fn?: unknown) {
        super();
      }
      submit(..._args: unknown[]): unknown {
        return undefined;
      }
    };
    for (const arg of [{ payload: { source, name: 'smuggled' } }, { __concurryFn: 'source', payload: { source, name: 'smuggled' } }]) {
      const w = Impostor.options(opts()).init(arg);
      const e = await w.ready().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(WorkerInitError);
      expect((e as Error).cause).toBeInstanceOf(HostRefusedError);
      expect((e as Error).message).toMatch(/refuses (a TaskWorker function that is a plain object|TaskWorker functions sent as source text)/);
      await w.stop();
    }
    const open = Impostor.options(opts()).init();
    const e = await open.submit({ __concurryFn: 'source', payload: { source, name: 'smuggled' } }).exception();
    expect(e).toBeInstanceOf(HostRefusedError);
    await open.stop();
    await assertNothingRan();
  });

  it("public API: TaskWorker's own functions sent as source are refused, by submit() and init()", async () => {
    const smuggled = new Function(`return (${source})`)() as () => string;
    const tw = TaskWorker.options(opts()).init();
    const e = await tw.submit(smuggled).exception();
    expect(e).toBeInstanceOf(HostRefusedError);
    expect((e as Error).message).toMatch(/refuses TaskWorker functions sent as source text \(smuggled\)/);
    await tw.stop();
    const bound = TaskWorker.options(opts()).init(smuggled);
    expect(await bound.ready().catch((x: unknown) => (x as Error).cause)).toBeInstanceOf(HostRefusedError);
    await bound.stop();
    await assertNothingRan();
  });

  it('a host that opted in runs tagged source (the marker works), and still refuses the untagged shape and Function', async () => {
    const allowedMarker = join(dir, 'allow-host-ran-it');
    const allowed = new Function(`return (${smuggledSource(allowedMarker)})`)() as () => string;
    const tw = TaskWorker.options(opts(ALLOW)).init();
    try {
      expect(await tw.submit(allowed)).toBe('ran');
      expect(codeRan(allowedMarker)).toBe(true);
    } finally {
      await tw.stop();
    }
    const allow = new Attacker(redis.url, ALLOW);
    try {
      const untagged = await allow.place('TaskWorker', placementOf([{ payload: { source, name: 'smuggled' } }]));
      expect((await allow.outcome(untagged.caller)).ready).toBe(false);
      const ctor = await allow.place('Vault', placementOf([], { retry: { retryUntil: { __static: 'constructor' } } }));
      expect((await allow.outcome(ctor.caller)).ready).toBe(false);
    } finally {
      await allow.close();
    }
    expect(codeRan(marker)).toBe(false);
  });
});
