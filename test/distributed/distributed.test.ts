/**
 * Distributed mode against a real redis-server and two real host processes: placement, ordering,
 * pools over hosts, error fidelity, retries on the host, events and stats, security refusals,
 * limits shared across hosts, cancel, stop() and its key cleanup.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CallLimit,
  CancelledError,
  ConfigError,
  HostRefusedError,
  LimitPool,
  LimitSet,
  RateLimit,
  ResourceLimit,
  RetryValidationError,
  TaskWorker,
  Worker,
  WorkerInitError,
  gather,
} from '../../src/index.js';
import { distributedLimitStats } from '../../src/distributed.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { Broken, Counter, type ApiError } from './fixtures/workers.js';
import { startHost, stopAll, type TestHost } from './hosts.js';

const PREFIX = 'dt-main';
let redis: TestRedis;
let hosts: TestHost[] = [];
let inspect: Redis;
const handles: { stop(o?: { timeout?: number }): Promise<void> }[] = [];
const track = <T extends { stop(o?: { timeout?: number }): Promise<void> }>(h: T): T => (handles.push(h), h);
const opts = () => ({ mode: 'distributed' as const, connection: redis.url, prefix: PREFIX });

beforeAll(async () => {
  redis = await startRedis();
  inspect = new Redis(redis.url);
  hosts = await Promise.all([startHost({ redis: redis.url, prefix: PREFIX }), startHost({ redis: redis.url, prefix: PREFIX })]);
}, 60_000);

// Each test stops its handles: hosts have room for 8 instances each.
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop({ timeout: 500 }).catch(() => {})));
});

afterAll(async () => {
  await Promise.all(handles.map((h) => h.stop({ timeout: 500 }).catch(() => {})));
  await stopAll(hosts);
  inspect?.disconnect();
  await redis?.stop();
}, 60_000);

describe('distributed mode', () => {
  it('runs an instance on a host process and keeps its calls in order', async () => {
    const c = track(Counter.options(opts()).init('ordered'));
    await c.ready();
    const where = await c.where();
    expect(where.label).toBe('ordered');
    expect(where.pid).not.toBe(process.pid);
    expect(hosts.map((h) => h.pid)).toContain(where.pid);
    // Calls with varying delays, sent in several ticks: they still run one at a time, in order.
    const futures = [];
    for (let i = 0; i < 150; i++) {
      futures.push(c.add(i, i % 10 === 0 ? 5 : 0));
      if (i % 37 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    const results = await gather(futures);
    expect(results).toEqual(Array.from({ length: 150 }, (_, i) => i));
    expect(await c.history()).toEqual(results);
  });

  it('a pool spreads its instances over the hosts', async () => {
    const pool = track(Counter.options({ ...opts(), maxWorkers: 2 }).init('pool'));
    await pool.ready();
    const pids = new Set((await gather(Array.from({ length: 8 }, () => pool.where()))).map((w) => w.pid));
    expect(pids).toEqual(new Set(hosts.map((h) => h.pid)));
    expect(pool.stats().pool?.workers).toHaveLength(2);
  });

  it('values keep their types; errors keep class, code, status, stack and cause chain', async () => {
    const c = track(Counter.options(opts()).init());
    const value = { m: new Map([[1, 'a']]), s: new Set([2]), d: new Date(5), big: 10n, u: undefined, bytes: new Uint8Array([1, 2]) };
    expect(await c.echo(value)).toEqual(value);
    const e = (await c.chained().exception()) as ApiError;
    expect(e.name).toBe('ApiError');
    expect(e.message).toBe('upstream failed');
    expect(e.code).toBe('E_UPSTREAM');
    expect(e.status).toBe(502);
    expect(e.stack).toMatch(/chained/);
    expect(e.cause).toBeInstanceOf(TypeError);
    expect(((e.cause as Error).cause as { code: string }).code).toBe('ECONNRESET');
    await expect(c.echo(Symbol('x') as never)).rejects.toThrow(/Argument 1 of Counter.echo cannot be sent to the worker/);
    await expect(c.returnsFunction()).rejects.toThrow(/cannot be sent back from the worker/);
    expect(await c.echo(3)).toBe(3);
  });

  it('retries run on the host: attempts, events and stats reach the caller', async () => {
    const c = track(Counter.options({ ...opts(), numRetries: 3, retryWait: 10, retryJitter: 0 }).init());
    const retries: number[] = [];
    c.on('retry', (ev) => retries.push(ev.attempt));
    const out = await c.flaky(3);
    expect(out.attempt).toBe(3);
    expect(hosts.map((h) => h.pid)).toContain(out.pid);
    expect(retries).toEqual([1, 2]);
    expect(c.stats().methods.flaky).toMatchObject({ calls: 1, retries: 2, successes: 1 });
  });

  it('a static validator travels by name; validation exhaustion is a RetryValidationError', async () => {
    const c = track(Counter.options({ ...opts(), numRetries: 3, retryWait: 1, retryUntil: Counter.isEven }).init());
    expect(await c.nextNumber()).toBe(2);
    const strict = track(Counter.options({ ...opts(), numRetries: 1, retryWait: 1, retryUntil: (r: unknown) => r === 'never' }).init());
    const e = await strict.ready().catch((x) => x);
    expect(e).toBeInstanceOf(WorkerInitError);
    expect(e.cause).toBeInstanceOf(HostRefusedError);
    expect(e.message).toMatch(/refuses functions sent as source text \(option 'retryUntil'/);
    const v = track(Counter.options({ ...opts(), numRetries: 0, retryUntil: Counter.isEven }).init());
    const err = await v.nextNumber().exception();
    expect(err).toBeInstanceOf(RetryValidationError);
    expect((err as RetryValidationError).allResults).toEqual([1]);
    expect((err as RetryValidationError).validationErrors).toEqual(['odd: 1']);
    expect(await v.nextNumber()).toBe(2);
  });

  it('a failing constructor rejects ready() and calls with WorkerInitError', async () => {
    const b = track(Broken.options(opts()).init());
    const e = await b.ready().catch((x) => x);
    expect(e).toBeInstanceOf(WorkerInitError);
    expect(e.message).toMatch(/constructor failed on purpose/);
    expect(e.cause).toBeInstanceOf(RangeError);
    await expect(b.ping()).rejects.toBeInstanceOf(WorkerInitError);
  });

  it('hosts build only the classes of their modules', async () => {
    class NotOnAnyHost extends Worker {
      ping(): string {
        return 'pong';
      }
    }
    const w = track(NotOnAnyHost.options(opts()).init());
    const e = await w.ready().catch((x) => x);
    expect(e).toBeInstanceOf(WorkerInitError);
    expect(e.message).toMatch(/No host serves class NotOnAnyHost/);
    expect(e.message).toMatch(/Counter/);
  });

  it('TaskWorker: exported functions run by name; functions sent as source are refused', async () => {
    const { double } = await import('./fixtures/workers.js');
    const tw = track(TaskWorker.options(opts()).init());
    expect(await tw.submit({ module: import.meta.url, export: 'double' }, 21)).toBe(42);
    const bound = track(TaskWorker.options(opts()).init({ module: 'file:///elsewhere.js', export: 'double' }));
    expect(await bound.submit(5)).toBe(10);
    void double;
    const e = await tw.submit((x: number) => x + 1, 1).exception();
    expect(e).toBeInstanceOf(HostRefusedError);
    expect((e as Error).message).toMatch(/refuses TaskWorker functions sent as source text/);
    const missing = await tw.submit({ module: import.meta.url, export: 'nope' }).exception();
    expect(missing).toBeInstanceOf(HostRefusedError);
    expect((missing as Error).message).toMatch(/no exported function 'nope'/);
  });

  it('cancel() drops a queued call; stop() cancels a hanging one and removes the Redis keys', async () => {
    const c = Counter.options(opts()).init();
    await c.ready();
    const hanging = c.hang();
    const queued = c.add(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(queued.cancel()).toBe(true); // already sent: the host drops it
    await expect(queued).rejects.toBeInstanceOf(CancelledError);
    const t0 = performance.now();
    await c.stop({ timeout: 200 });
    expect(performance.now() - t0).toBeLessThan(5000);
    await expect(hanging).rejects.toBeInstanceOf(CancelledError);
    expect(() => c.add(2)).toThrow(/Worker is stopped/);
  });

  it('shares a ResourceLimit across a pool on both hosts: never more than 2 holders, and it reaches 2', async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 2 })]);
    const pool = track(Counter.options({ ...opts(), maxWorkers: 4, maxConcurrency: 4, limits }).init());
    const seen = await gather(Array.from({ length: 16 }, () => pool.holdSlotCounted(40, redis.url, 'dt-test:holders')));
    expect(new Set(seen.map((s) => s.pid)).size).toBe(2);
    expect(Math.max(...seen.map((s) => s.holders))).toBe(2);
    const stats = await distributedLimitStats(limits, { connection: redis.url, prefix: PREFIX });
    expect(stats.slots).toMatchObject({ kind: 'resource', available: 2, capacity: 2 });
  });

  it('shares a CallLimit across hosts: never more than capacity per window', async () => {
    const limits = new LimitSet([new CallLimit({ window: 500, capacity: 4 })]);
    const pool = track(Counter.options({ ...opts(), maxWorkers: 2, maxConcurrency: 8, limits }).init());
    const t0 = performance.timeOrigin + performance.now();
    const times = (await gather(Array.from({ length: 12 }, () => pool.ratedCall()))).sort((a, b) => a - b);
    // 12 calls at 4 per 500 ms: the last batch can't start before ~1000 ms.
    expect(times[11]! - t0).toBeGreaterThan(900);
    for (let i = 4; i < times.length; i++) expect(times[i]! - times[i - 4]!).toBeGreaterThan(480);
  });

  it('a LimitPool of two accounts is served from Redis round-robin; acq.config names the account', async () => {
    const account = (name: string) => new LimitSet([new CallLimit({ window: 60_000, capacity: 100 })], { config: { name } });
    const limits = new LimitPool([account('a'), account('b')]);
    const w = track(Counter.options({ ...opts(), limits }).init());
    const names: string[] = [];
    for (let i = 0; i < 4; i++) names.push(await w.account());
    expect(names).toEqual(['a', 'b', 'a', 'b']);
    const stats = (await distributedLimitStats(limits, { connection: redis.url, prefix: PREFIX })) as { sets: Record<string, { available: number }>[] };
    expect(stats.sets.map((s) => s.call_count!.available)).toEqual([98, 98]);
  });

  it('token-bucket RateLimit refunds what update() says was not used, across hosts', async () => {
    const limits = new LimitSet([new RateLimit({ key: 'tokens', window: 60_000, capacity: 100, algorithm: 'token-bucket' })]);
    const pool = track(Counter.options({ ...opts(), maxWorkers: 2, limits }).init());
    // Each asks 50 but uses 10: without refunds the third call would wait a minute.
    const t0 = performance.now();
    expect(await gather(Array.from({ length: 6 }, () => pool.spend(50, 10)))).toEqual([10, 10, 10, 10, 10, 10]);
    expect(performance.now() - t0).toBeLessThan(5000);
    const stats = await distributedLimitStats(limits, { connection: redis.url, prefix: PREFIX });
    expect((stats.tokens as { available: number }).available).toBeGreaterThanOrEqual(39);
    expect((stats.tokens as { available: number }).available).toBeLessThanOrEqual(41);
  });

  it('bad options fail at options() time without echoing secrets', () => {
    expect(() => Counter.options({ ...opts(), connection: 'http://user:hunter2@x' })).toThrow(ConfigError);
    try {
      Counter.options({ ...opts(), connection: 'http://user:hunter2@x' });
    } catch (e) {
      expect((e as Error).message).not.toMatch(/hunter2/);
    }
    expect(() => Counter.options({ ...opts(), delivery: 'exactly-once' as never })).toThrow(/Invalid option 'delivery'/);
    expect(() => Counter.options({ ...opts(), prefix: 'has space' })).toThrow(/Invalid option 'prefix'/);
  });

  it('hosts never log the Redis password', async () => {
    for (const h of hosts) {
      expect(h.log()).toMatch(/host .* up: redis redis:\/\/127\.0\.0\.1:\d+/);
    }
  });

  it('a handle made before any host is up waits for the first host, then runs there', async () => {
    const prefix = 'dt-late';
    const w = track(Counter.options({ ...opts(), prefix }).init('early'));
    const call = w.add(41);
    await new Promise((r) => setTimeout(r, 200));
    expect(call.done).toBe(false);
    const late = await startHost({ redis: redis.url, prefix });
    try {
      expect(await call.result({ timeout: 15_000 })).toBe(41);
      expect((await w.where()).pid).toBe(late.pid);
    } finally {
      await w.stop();
      await late.stop();
    }
  });

  it('stop() of every handle leaves no keys of theirs in Redis', async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 2 }), new CallLimit({ window: 1000, capacity: 100 })]);
    const pool = Counter.options({ ...opts(), maxWorkers: 3, limits, numRetries: 1, retryBudget: { ratio: 0.5 } }).init();
    await gather([pool.holdSlot(1), pool.holdSlot(1), pool.add(1), pool.flaky(2)]);
    expect((await inspect.keys(`${PREFIX}:lim:*`)).length).toBeGreaterThan(0);
    await pool.stop();
    const keys = await inspect.keys(`${PREFIX}:*`);
    const leftovers = keys.filter((k) => !/^dt-main:(host:|hosts$|ctl-)/.test(k));
    for (const k of leftovers) if (k.includes(':inst:')) console.log(k, await inspect.hgetall(k));
    expect(leftovers).toEqual([]);
  });
});
