/**
 * Issue 22 item 8: a wrong Redis password is refused at once (ioredis answers WRONGPASS/NOAUTH
 * immediately; its reconnect loop must not hide that), with a clear error that never shows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, LimitSet, ResourceLimit, WorkerInitError } from '../../src/index.js';
import { distributedLimitStats, startHost } from '../../src/distributed.js';
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

/** A URL of the test Redis with `password` in it. */
const withPassword = (password: string) => redis!.url.replace('redis://', `redis://:${password}@`);

/**
 * Runs `attempt`, which must fail at once (ioredis answers a wrong password immediately; 4 s is
 * generous for a loaded machine and far below the 10 s connect timeout), with an error of `cls`
 * saying the credentials were refused and never showing `secret`.
 */
async function failsAtOnce(attempt: () => PromiseLike<unknown>, secret: string, cls: new (...a: any[]) => Error): Promise<void> {
  const t0 = performance.now();
  const error: any = await Promise.resolve(attempt()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(performance.now() - t0).toBeLessThan(4000);
  expect(error).toBeInstanceOf(cls);
  expect(error.message).toMatch(/refused the credentials/);
  expect(error.message).not.toContain(secret);
  expect(String(error.cause?.message ?? '')).not.toContain(secret);
}

/** A distributed Counter handle on `connection`, stopped after `use`. */
async function withCounter(connection: unknown, use: (w: ReturnType<typeof counter>) => Promise<void>, maxWorkers = 1): Promise<void> {
  const w = counter(connection, maxWorkers);
  try {
    await use(w);
  } finally {
    await w.stop();
  }
}
const counter = (connection: unknown, maxWorkers: number) =>
  Counter.options({ mode: 'distributed', connection: connection as string, prefix: 'robust-auth', maxWorkers }).init();

describe.runIf(canRun)('a wrong Redis password', () => {
  const cases: [string, () => unknown, string][] = [
    ['in the URL', () => withPassword('wrong-pass-in-url'), 'wrong-pass-in-url'],
    ['in the options', () => ({ host: '127.0.0.1', port: redis!.port, password: 'wrong-pass-in-options' }), 'wrong-pass-in-options'],
    ['with a username', () => ({ host: '127.0.0.1', port: redis!.port, username: 'default', password: 'wrong-user-pass' }), 'wrong-user-pass'],
    ['missing', () => redis!.url, PASSWORD],
  ];
  it.each(cases)('%s: ready() fails at once, clearly, without the password', async (_name, connection, secret) => {
    await withCounter(connection(), (w) => failsAtOnce(() => w.ready(), secret, WorkerInitError));
  });

  it('a pool of two fails at once too', async () => {
    await withCounter(withPassword('pool-pass'), (w) => failsAtOnce(() => w.ready(), 'pool-pass', WorkerInitError), 2);
  });

  it('a call made without awaiting ready() fails at once too', async () => {
    await withCounter(withPassword('call-pass'), (w) => failsAtOnce(() => w.where(), 'call-pass', WorkerInitError));
  });

  it('startHost() with a wrong password fails at once', async () => {
    const modules = [new URL('../distributed/fixtures/workers.ts', import.meta.url).pathname];
    await failsAtOnce(() => startHost({ connection: withPassword('host-pass'), prefix: 'robust-auth', modules }).then((h) => h.stop()), 'host-pass', ConfigError);
  });

  it('distributedLimitStats() with a wrong password fails at once too', async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slots', capacity: 2 })]);
    await failsAtOnce(() => distributedLimitStats(limits, { connection: withPassword('nope-nope'), prefix: 'robust-auth' }), 'nope-nope', ConfigError);
  });
});
