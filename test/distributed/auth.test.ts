/**
 * A Redis that requires a password: hosts and callers take it from the URL, the options or
 * REDIS_PASSWORD; wrong credentials fail clearly; the password is never printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerInitError } from '../../src/index.js';
import { redisServerBinary, startRedis, type TestRedis } from '../helpers/redis.js';
import { Counter } from './fixtures/workers.js';
import { startHost, stopAll, type TestHost } from './hosts.js';

const PASSWORD = 'hunter2-secret';
const PREFIX = 'dt-auth';
let redis: TestRedis | undefined;
let hosts: TestHost[] = [];
const canRun = redisServerBinary() !== undefined;

beforeAll(async () => {
  if (!canRun) return;
  redis = await startRedis({ password: PASSWORD });
  hosts = await Promise.all([
    // Password from the environment…
    startHost({ redis: redis.url, prefix: PREFIX, env: { REDIS_PASSWORD: PASSWORD } }),
    // …or in the URL.
    startHost({ redis: redis.url.replace('redis://', `redis://:${PASSWORD}@`), prefix: PREFIX }),
  ]);
}, 60_000);

afterAll(async () => {
  await stopAll(hosts);
  await redis?.stop();
}, 60_000);

describe.runIf(canRun)('distributed mode with a password', () => {
  it('callers connect with the password in the options; a pool uses both hosts', async () => {
    const u = new URL(redis!.url);
    const pool = Counter.options({
      mode: 'distributed',
      connection: { host: u.hostname, port: Number(u.port), password: PASSWORD },
      prefix: PREFIX,
      maxWorkers: 2,
    }).init();
    try {
      const pids = new Set((await Promise.all([pool.where(), pool.where(), pool.where()])).map((w) => w.pid));
      expect(pids).toEqual(new Set(hosts.map((h) => h.pid)));
    } finally {
      await pool.stop();
    }
  });

  it('wrong credentials fail ready() clearly, without the password', async () => {
    const w = Counter.options({ mode: 'distributed', connection: redis!.url.replace('redis://', 'redis://:not-the-password@'), prefix: PREFIX }).init();
    const e = await w.ready().catch((x) => x);
    expect(e).toBeInstanceOf(WorkerInitError);
    expect(e.message).toMatch(/refused the credentials/);
    expect(e.message).toMatch(/redis:\/\/:\*\*\*@127\.0\.0\.1/);
    expect(e.message).not.toMatch(/not-the-password/);
    await w.stop();
  });

  it('hosts log the connection with the password hidden', () => {
    for (const h of hosts) {
      expect(h.log()).toMatch(/up: redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
      expect(h.log()).not.toMatch(new RegExp(PASSWORD));
    }
  });
});
