/** Where Python concurry users trip (issue 18, item 8): the limits side. */
import { describe, expect, it } from 'vitest';
import { CallLimit, ConfigError, LimitPool, LimitSet, LimitUsageError, RateLimit, ResourceLimit, Worker } from '../../src/index.js';
import { toLimits } from '../../src/worker/limits-option.js';

describe('acquire() with no amounts', () => {
  it('on a set holding RateLimits is a LimitUsageError naming each of them; nothing is taken', async () => {
    const set = new LimitSet([
      new RateLimit({ key: 'tokens', window: 1000, capacity: 10 }),
      new RateLimit({ key: 'requests', window: 1000, capacity: 10 }),
      new ResourceLimit({ key: 'conns', capacity: 1 }),
    ]);
    const message =
      "acquire(): no amounts given, but this set holds RateLimit 'tokens', 'requests'; name the amount to take, e.g. acquire({ tokens: n, requests: n }) (a RateLimit is never bypassed silently)";
    await expect(set.acquire()).rejects.toThrow(new LimitUsageError(message));
    await expect(set.acquire({})).rejects.toBeInstanceOf(LimitUsageError);
    expect(() => set.tryAcquire()).toThrow(message);
    await expect(set.run(undefined, () => 1)).rejects.toBeInstanceOf(LimitUsageError);
    expect(set.stats()).toMatchObject({ conns: { held: 0 }, waiting: 0 });
  });

  it('on a LimitPool of such sets is refused the same way', async () => {
    const pool = new LimitPool([new LimitSet([new RateLimit({ key: 'tokens', window: 1000, capacity: 10 })])]);
    await expect(pool.acquire()).rejects.toThrow(/RateLimit 'tokens'/);
  });

  it('on a Call/Resource-only set still takes 1 of each', async () => {
    const set = new LimitSet([new CallLimit({ window: 1000, capacity: 5 }), new ResourceLimit({ key: 'conns', capacity: 2 })]);
    const acq = await set.acquire();
    expect(acq.requested).toEqual({ call_count: 1, conns: 1 });
    acq.release();
  });

  it('naming only some keys still works (rate limits not named are not taken, as in Python)', async () => {
    const set = new LimitSet([new RateLimit({ key: 'tokens', window: 1000, capacity: 10 }), new ResourceLimit({ key: 'conns', capacity: 1 })]);
    const acq = await set.acquire({ conns: 1 });
    expect(acq.requested).toEqual({ conns: 1 });
    acq.release();
  });
});

describe("the 'limits' option", () => {
  it('an array of LimitSets becomes a LimitPool over them', () => {
    const a = new LimitSet([new ResourceLimit({ key: 'k', capacity: 1 })], { config: { name: 'a' } });
    const b = new LimitSet([new ResourceLimit({ key: 'k', capacity: 1 })], { config: { name: 'b' } });
    const pool = toLimits([a, b]);
    expect(pool).toBeInstanceOf(LimitPool);
    expect((pool as LimitPool).sets).toEqual([a, b]);
  });

  it('an array mixing limits and sets is refused, saying to use a LimitPool', () => {
    const a = new LimitSet([new ResourceLimit({ key: 'k', capacity: 1 })]);
    expect(() => toLimits([a, new ResourceLimit({ key: 'j', capacity: 1 })])).toThrow(ConfigError);
    expect(() => toLimits([a, new ResourceLimit({ key: 'j', capacity: 1 })])).toThrow(/pass new LimitPool\(\[setA, setB\]\)/);
  });

  it('a worker given [setA, setB] draws round-robin on both sets', async () => {
    class Account extends Worker {
      async name(): Promise<string> {
        await using acq = await this.limits.acquire({ k: 1 });
        return String(acq.config.name);
      }
    }
    const a = new LimitSet([new ResourceLimit({ key: 'k', capacity: 1 })], { config: { name: 'a' } });
    const b = new LimitSet([new ResourceLimit({ key: 'k', capacity: 1 })], { config: { name: 'b' } });
    const w = Account.options({ mode: 'async', limits: [a, b] }).init();
    try {
      expect([await w.name(), await w.name(), await w.name()]).toEqual(['a', 'b', 'a']);
    } finally {
      await w.stop();
    }
  });
});

describe('an acquisition outside a worker method keeps the plain rule', () => {
  it('release() without update() throws LimitUsageError after releasing everything', async () => {
    const set = new LimitSet([new RateLimit({ key: 'tokens', window: 1000, capacity: 10 }), new ResourceLimit({ key: 'conns', capacity: 1 })]);
    const acq = await set.acquire({ tokens: 3 });
    expect(() => acq.release()).toThrow(LimitUsageError);
    expect(set.stats()).toMatchObject({ conns: { held: 0 } });
  });
});
