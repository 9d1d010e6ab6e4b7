/** `npm test`'s pretest step: redis-server is there, gets installed, or the run stops naming the command. */
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without declarations
import { decide } from '../../scripts/ensure-redis.mjs';

type Decision = { action: 'ok' | 'install' | 'stop'; message?: string };
interface Machine {
  redisUrl?: string;
  hasRedisServer: boolean;
  isRoot: boolean;
  hasAptGet: boolean;
  hasBrew: boolean;
}
const machine: Machine = { hasRedisServer: false, isRoot: false, hasAptGet: true, hasBrew: false };
const decideOn = (m: Partial<Machine>): Decision => (decide as (m: unknown) => Decision)({ ...machine, ...m });

describe('pretest: redis-server for the distributed suites', () => {
  it('goes on when redis-server is installed, or REDIS_URL names a server', () => {
    expect(decideOn({ hasRedisServer: true })).toEqual({ action: 'ok' });
    expect(decideOn({ redisUrl: 'redis://10.0.0.1:6379' })).toEqual({ action: 'ok' });
  });

  it('installs it as root with apt-get (a fresh Debian CI machine)', () => {
    expect(decideOn({ isRoot: true })).toEqual({ action: 'install' });
  });

  it('otherwise stops, naming the exact command to run — never a silent skip', () => {
    const apt = decideOn({});
    expect(apt.action).toBe('stop');
    expect(apt.message).toContain('npm test needs redis-server for the distributed-mode tests');
    expect(apt.message).toContain('sudo apt-get install -y redis-server');
    expect(decideOn({ hasAptGet: false, hasBrew: true }).message).toContain('brew install redis');
    expect(decideOn({ isRoot: true, hasAptGet: false }).message).toContain('install redis-server (https://redis.io/');
  });
});
