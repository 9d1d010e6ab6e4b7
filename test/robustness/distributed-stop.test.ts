/**
 * Issue 22 item 6 in distributed mode: `stop({ timeout: Infinity })` travels to the host as JSON,
 * where Infinity used to become null and so 0 (running calls cancelled at once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { startHost as startInProcessHost } from '../../src/distributed.js';
import { redisServerBinary, startRedis, type TestRedis } from '../helpers/redis.js';
import { Counter } from '../distributed/fixtures/workers.js';
import { startHost, stopAll, type TestHost } from '../distributed/hosts.js';

const PREFIX = 'robust-stop';
let redis: TestRedis | undefined;
let hosts: TestHost[] = [];
const canRun = redisServerBinary() !== undefined;

beforeAll(async () => {
  if (!canRun) return;
  redis = await startRedis();
  hosts = [await startHost({ redis: redis.url, prefix: PREFIX })];
}, 60_000);
afterAll(async () => {
  await stopAll(hosts);
  await redis?.stop();
}, 60_000);

describe.runIf(canRun)('distributed stop timeouts', () => {
  it('stop({ timeout: Infinity }) lets a 300 ms call finish on the host', async () => {
    const w = Counter.options({ mode: 'distributed', connection: redis!.url, prefix: PREFIX }).init();
    await w.ready();
    const call = w.slow(300);
    await new Promise((r) => setTimeout(r, 100));
    await w.stop({ timeout: Infinity });
    await expect(call).resolves.toBe(hosts[0]!.pid);
  });
});

describe('host drainTimeoutMs', () => {
  it.each([-1, NaN, '100'])('drainTimeoutMs: %s is a ConfigError', async (drainTimeoutMs) => {
    const e = await startInProcessHost({ modules: ['./nowhere.ts'], drainTimeoutMs: drainTimeoutMs as number }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/Invalid option 'drainTimeoutMs'.*expected a number of ms >= 0/);
  });
});
