/**
 * Issue 22 item 8: a wrong Redis password is refused at once (ioredis answers WRONGPASS/NOAUTH
 * immediately; its reconnect loop must not hide that), with a clear error that never shows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, LimitSet, ResourceLimit, WorkerInitError, distributedLimitStats, startHost } from '../../src/index.js';
import { redisServerBinary, startRedis, type TestRedis } from '../helpers/redis.js';
import { Counter } from '../distributed/fixtures/workers.js';

const PASSWORD = 'correct-horse-battery';
let redis: TestRedis | undefined;
const canRun = redisServerBinary() !== undefined;

beforeAll(async () => {
  if (canRun) redis = await startRedis({ password: PASSWORD });
}, 60_000);
afterAll(async () => {
  await redis?.stop();
}, 60_000);

/** ready()'s failure and how long it took. */
async function readyFailure(connection: unknown): Promise<{ error: any; ms: number }> {
  const w = Counter.options({ mode: 'distributed', connection: connection as string, prefix: 'robust-auth' }).init();
  const t0 = performance.now();
  const error = await w.ready().then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = performance.now() - t0;
  await w.stop();
  return { error, ms };
}

describe.runIf(canRun)('a wrong Redis password', () => {
  const cases: [string, () => unknown, string][] = [
    ['in the URL', () => redis!.url.replace('redis://', 'redis://:wrong-pass-in-url@'), 'wrong-pass-in-url'],
    ['in the options', () => ({ host: '127.0.0.1', port: redis!.port, password: 'wrong-pass-in-options' }), 'wrong-pass-in-options'],
    ['with a username', () => ({ host: '127.0.0.1', port: redis!.port, username: 'default', password: 'wrong-user-pass' }), 'wrong-user-pass'],
    ['missing', () => redis!.url, PASSWORD],
  ];
  it.each(cases)('%s: ready() fails at once, clearly, without the password', async (_name, connection, secret) => {
    const { error, ms } = await readyFailure(connection());
    expect(error).toBeInstanceOf(WorkerInitError);
    expect(error.message).toMatch(/refused the credentials|requires a password/);
    expect(error.message).not.toContain(secret);
    expect(String(error.cause?.message ?? '')).not.toContain(secret);
    // ioredis answers at once; 4 s is generous for a loaded machine and far below the 10 s connect timeout.
    expect(ms).toBeLessThan(4000);
  });

  it('a pool of two fails at once too', async () => {
    const w = Counter.options({ mode: 'distributed', connection: redis!.url.replace('redis://', 'redis://:pool-pass@'), prefix: 'robust-auth', maxWorkers: 2 }).init();
    const t0 = performance.now();
    const e: any = await w.ready().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(e?.message).toMatch(/refused the credentials/);
    expect(e?.message).not.toContain('pool-pass');
    await w.stop();
  });

  it('a call made without awaiting ready() fails at once too', async () => {
    const w = Counter.options({ mode: 'distributed', connection: redis!.url.replace('redis://', 'redis://:call-pass@'), prefix: 'robust-auth' }).init();
    const t0 = performance.now();
    const e: any = await w.where().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(e?.message).toMatch(/refused the credentials/);
    expect(e?.message).not.toContain('call-pass');
    await w.stop();
  });

  it('startHost() with a wrong password fails at once', async () => {
    const t0 = performance.now();
    const e: any = await startHost({
      connection: redis!.url.replace('redis://', 'redis://:host-pass@'),
      prefix: 'robust-auth',
      modules: [new URL('../distributed/fixtures/workers.ts', import.meta.url).pathname],
    }).then(
      (h) => h.stop(),
      (x: unknown) => x,
    );
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/refused the credentials/);
    expect(e.message).not.toContain('host-pass');
  });

  it('distributedLimitStats() with a wrong password fails at once too', async () => {
    const t0 = performance.now();
    const limits = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 2 })]);
    const e = await distributedLimitStats(limits, { connection: redis!.url.replace('redis://', 'redis://:nope-nope@'), prefix: 'robust-auth' }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/refused the credentials/);
    expect((e as Error).message).not.toContain('nope-nope');
  });
});
