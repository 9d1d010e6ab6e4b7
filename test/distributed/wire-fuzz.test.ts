/**
 * Fuzz over the wire format, against a real host process that refuses source functions: random
 * and mutated placements, call batches, raw job data and bus messages — every smuggling shape and
 * prototype-pollution keys — pushed straight into Redis. Asserts that no code ran (marker file, the
 * host's globals and Object.prototype), that every placement is answered, and that the host keeps
 * serving honest callers throughout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from '../../src/modes/distributed/wire.js';
import { redisServerBinary, startRedis, type TestRedis } from '../helpers/redis.js';
import { Attacker, codeRan, smuggledSource } from './attacker.js';
import { Vault } from './fixtures/sec-workers.js';
import { smuggling } from './fuzz-values.js';
import { startHost, stopAll, type TestHost } from './hosts.js';

const secModule = new URL('./fixtures/sec-workers.ts', import.meta.url).pathname;
const PREFIX = 'dt-fuzz';
const canRun = redisServerBinary() !== undefined;
let redis: TestRedis;
let host: TestHost;
let attacker: Attacker;
let dir: string;
let marker: string;
let source: string;
const honestVault = () => Vault.options({ mode: 'distributed', connection: redis.url, prefix: PREFIX }).init();
let honest: ReturnType<typeof honestVault>;

beforeAll(async () => {
  if (!canRun) return;
  dir = mkdtempSync(join(tmpdir(), 'concurry-fuzz-'));
  marker = join(dir, 'host-ran-it');
  source = smuggledSource(marker);
  redis = await startRedis();
  attacker = new Attacker(redis.url, PREFIX);
  [host] = await stopAllOnFailure([startHost({ redis: redis.url, prefix: PREFIX, modules: [secModule], concurrency: 32 })]);
  honest = honestVault();
  await honest.ready();
}, 60_000);

afterAll(async () => {
  await honest?.stop();
  await attacker?.close();
  if (host) await stopAll([host]);
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function stopAllOnFailure(starting: Promise<TestHost>[]): Promise<TestHost[]> {
  const settled = await Promise.allSettled(starting);
  const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await stopAll(ok);
    throw (failed as PromiseRejectedResult).reason;
  }
  return ok;
}

/** The host is alive, answers an honest caller, and nothing smuggled ran in it. */
async function assertServingAndClean(): Promise<void> {
  expect(host.process.exitCode).toBeNull();
  expect(await honest.echo('still here')).toBe('still here');
  expect(await honest.probe()).toEqual({ smuggled: undefined, polluted: [] });
  expect(codeRan(marker)).toBe(false);
}

/** Waits until the host took every job of a queue (the queue has none waiting or active). */
async function drained(queueName: string): Promise<void> {
  const q = new Queue(queueName, { connection: { url: redis.url }, prefix: PREFIX, skipVersionCheck: true });
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const c = await q.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      if (c.wait + c.active + c.delayed + c.prioritized === 0) return;
      if (Date.now() > deadline) throw new Error(`host did not take the jobs of ${queueName}: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await q.close();
  }
}

const METHODS = ['submit', 'echo', 'ok', 'probe', 'constructor', '__proto__', 'toString', 'valueOf', '__defineGetter__', 'hasOwnProperty', 'then', 'nope'];

describe.runIf(canRun)('wire fuzz against a host that refuses source functions', () => {
  it('random placements and call batches: every placement is answered, no code runs, the host keeps serving', async () => {
    const v = () => smuggling(source);
    const placement = fc.record({
      cls: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('TaskWorker', 'Tasks', 'MyTasks', 'Vault') }, { weight: 1, arbitrary: fc.constantFrom('Nope', 'constructor', '__proto__', 'toString') }),
      ctorArgs: fc.array(v(), { maxLength: 2 }),
      // Mostly what a caller sends (calls then run), sometimes anything at all.
      runtimeOptions: fc.oneof(
        { weight: 3, arbitrary: fc.record({ retryUntil: v(), retryOn: v() }, { requiredKeys: [] }).map((retry) => ({ maxConcurrency: 1, retry: { numRetries: 0, ...retry } })) },
        { weight: 1, arbitrary: v() },
      ),
      calls: fc.array(fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.constant('submit') }, { weight: 2, arbitrary: fc.constantFrom(...METHODS) }), fc.array(v(), { maxLength: 3 })), { maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(placement, async ({ cls, ctorArgs, runtimeOptions, calls }) => {
        let payload: unknown = { ctorArgs, runtimeOptions, workerIndex: 0 };
        try {
          pack(payload);
        } catch {
          payload = { ctorArgs: [], runtimeOptions, workerIndex: 0 };
        }
        const { caller, instance } = await attacker.place(cls, payload, undefined, host.id);
        const wire = calls.map(([method, args], i) => [i + 1, method, args] as [number, string, unknown[]]);
        await attacker.call(instance, 1, wire);
        const outcome = await attacker.outcome(caller);
        const runs = outcome.ready && (runtimeOptions as { maxConcurrency?: unknown }).maxConcurrency === 1;
        // Every call of a running instance is answered (a result or an error), none hangs the host.
        if (runs) await attacker.results(caller, wire.map((c) => c[0]));
        if (outcome.ready) await attacker.stop(instance);
        expect(codeRan(marker)).toBe(false);
      }),
      { numRuns: 150 },
    );
    await assertServingAndClean();
  }, 240_000);

  it('malformed jobs and bus messages: ignored or refused, the host keeps serving', async () => {
    const { caller, instance } = await attacker.place('TaskWorker', { ctorArgs: [], runtimeOptions: { maxConcurrency: 1 }, workerIndex: 0 });
    expect((await attacker.outcome(caller)).ready).toBe(true);
    const packed = pack([[1, 'submit', [{ __concurryFn: 'source', payload: { source, name: 'smuggled' } }]]]);
    const mutatedPack = fc.tuple(fc.nat(packed.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const copy = Buffer.from(packed);
      copy[i] = b;
      return copy.toString('base64');
    });
    const junk = fc.oneof(
      fc.anything({ maxDepth: 2 }),
      fc.record({ s: fc.oneof(fc.constant(1), fc.anything()), c: fc.oneof(mutatedPack, fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')), fc.string(), fc.anything()) }),
    );
    const jobs = fc.record({
      placement: fc.oneof(
        fc.record({ i: fc.uuid(), c: fc.constant(caller), cls: fc.constantFrom('TaskWorker', 'Vault', '__proto__'), p: fc.oneof(mutatedPack, fc.string(), fc.anything()) }),
        fc.anything({ maxDepth: 2 }),
      ),
      calls: fc.array(junk, { maxLength: 3 }),
      bus: fc.oneof(fc.string(), fc.json(), fc.constant('{"__proto__":{"polluted":1},"t":"stop","i":"x"}'), fc.record({ t: fc.constantFrom('stop', 'cancel'), i: fc.constantFrom(instance, '__proto__'), c: fc.anything(), timeout: fc.anything() }).map((m) => JSON.stringify(m) ?? '')),
    });
    await fc.assert(
      fc.asyncProperty(jobs, async ({ placement, calls, bus }) => {
        await attacker.place('Vault', {}, placement);
        for (const c of calls) await attacker.call(instance, 0, undefined, c);
        if (!bus.includes(instance)) await attacker.publish(bus);
      }),
      { numRuns: 40 },
    );
    await drained(attacker.keys.classQueue('Vault'));
    await drained(attacker.keys.instanceQueue(instance));
    await attacker.stop(instance);
    await assertServingAndClean();
  }, 240_000);
});
