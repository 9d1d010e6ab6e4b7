/**
 * `this.limits` in a process worker (WorkerLimitsClient), driven over a fake channel: the one
 * Acquisition class over an owner that posts the amounts back, honest Promise answers for
 * tryAcquire()/stats(), and the same errors as a set in the caller's thread.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { AbortError, Acquisition, ConfigError, LimitPool, LimitSet, LimitUsageError, RateLimit, ResourceLimit, TimeoutError, type LimitsLike } from '../../src/index.js';
import { WorkerLimitsClient } from '../../src/modes/ipc/worker-limits.js';
import type { FromWorker, LimitsAcquireReply } from '../../src/modes/ipc/protocol.js';

type LimitsMessage = Extract<FromWorker, { t: 'limits' }>;

/** A client whose posts are recorded, as the caller's limits server would receive them. */
function fakeChannel() {
  const posted: LimitsMessage[] = [];
  const client = new WorkerLimitsClient((msg) => {
    if (msg.t === 'limits') posted.push(msg);
  });
  return { client, posted };
}

const reply = (over: Partial<LimitsAcquireReply> = {}): LimitsAcquireReply => ({
  acqId: 7,
  amounts: [['tokens', 10]],
  config: { region: 'eu' },
  needsUpdate: ['tokens'],
  ...over,
});

describe('WorkerLimitsClient (process worker limits over the channel)', () => {
  it('acquire() resolves with an Acquisition whose release posts the usage back, once', async () => {
    const { client, posted } = fakeChannel();
    const pending = client.acquire({ tokens: 10 }, { timeout: 50 });
    expect(posted).toEqual([{ t: 'limits', rid: 1, op: 'acquire', requested: { tokens: 10 }, timeout: 50, set: undefined }]);
    client.settle(1, true, reply());
    const acq = await pending;
    expect(acq).toBeInstanceOf(Acquisition);
    expect(acq.requested).toEqual({ tokens: 10 });
    expect(acq.config).toEqual({ region: 'eu' });
    acq.update({ tokens: 4 }).release();
    acq.release(); // idempotent: nothing more is posted
    expect(posted.slice(1)).toEqual([{ t: 'limits', rid: 0, op: 'release', acqId: 7, used: { tokens: 4 }, force: true }]);
  });

  it('a rate amount released without update() raises LimitUsageError after posting the release', async () => {
    const { client, posted } = fakeChannel();
    const pending = client.acquire({ tokens: 10 });
    client.settle(1, true, reply());
    const acq = await pending;
    expect(() => acq.release()).toThrow(LimitUsageError);
    expect(() => acq.release()).not.toThrow();
    expect(posted.at(-1)).toEqual({ t: 'limits', rid: 0, op: 'release', acqId: 7, used: {}, force: true });
  });

  it('needsUpdate() knows the keys the caller said must be updated', async () => {
    const { client } = fakeChannel();
    expect(client.needsUpdate('tokens')).toBe(false);
    const pending = client.acquire({ tokens: 10 });
    client.settle(1, true, reply());
    await pending;
    expect(client.needsUpdate('tokens')).toBe(true);
    expect(client.needsUpdate('conns')).toBe(false);
  });

  it('an already-aborted signal rejects with AbortError, as a LimitSet does, and posts nothing', async () => {
    const { client, posted } = fakeChannel();
    const reason = new Error('user gave up');
    const error: unknown = await client.acquire({ tokens: 1 }, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ message: 'Limit acquisition aborted', cause: reason });
    expect(posted).toEqual([]);
    // A full LimitSet in this thread rejects the same way (a free one grants at once).
    const set = new LimitSet([new ResourceLimit({ key: 'tokens', capacity: 1 })]);
    set.tryAcquire({ tokens: 1 });
    const inProcess: unknown = await set.acquire({ tokens: 1 }, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(inProcess).toBeInstanceOf(AbortError);
    expect(inProcess).toMatchObject({ message: 'Limit acquisition aborted', cause: reason });
  });

  it('aborting a waiting acquire() asks the caller to drop it; the caller’s error rejects it', async () => {
    const { client, posted } = fakeChannel();
    const controller = new AbortController();
    const pending = client.acquire({ tokens: 1 }, { signal: controller.signal });
    controller.abort();
    expect(posted.at(-1)).toEqual({ t: 'limits', rid: 1, op: 'abort' });
    client.settle(1, false, new AbortError('Limit acquisition aborted'));
    await expect(pending).rejects.toThrow(new AbortError('Limit acquisition aborted'));
  });

  it('invalid options reject with ConfigError naming the option, without posting', async () => {
    const { client, posted } = fakeChannel();
    await expect(client.acquire({ tokens: 1 }, { timeout: -1 })).rejects.toThrow(ConfigError);
    await expect(client.acquire({ tokens: 1 }, { timeout: -1 })).rejects.toThrow(/acquire\(\{ timeout \}\)/);
    expect(posted).toEqual([]);
  });

  it('tryAcquire() is a Promise: the acquisition, or undefined when the caller timed out at once', async () => {
    const { client, posted } = fakeChannel();
    const got = client.tryAcquire({ tokens: 1 });
    expect(got).toBeInstanceOf(Promise);
    expect(posted.at(-1)).toMatchObject({ op: 'acquire', requested: { tokens: 1 }, timeout: 0 });
    client.settle(1, true, reply({ acqId: 1, needsUpdate: [] }));
    expect(await got).toBeInstanceOf(Acquisition);

    const none = client.tryAcquire({ tokens: 1 });
    client.settle(2, false, new TimeoutError('Limits not acquired within 0 ms'));
    expect(await none).toBeUndefined();

    const failed = client.tryAcquire({ tokens: 1 });
    client.settle(3, false, new ConfigError('bad amounts'));
    await expect(failed).rejects.toThrow(new ConfigError('bad amounts'));
  });

  it('stats() is a Promise of the caller’s stats', async () => {
    const { client, posted } = fakeChannel();
    const stats = client.stats();
    expect(posted).toEqual([{ t: 'limits', rid: 1, op: 'stats' }]);
    client.settle(1, true, { tokens: { available: 3 }, waiting: 0 });
    expect(await stats).toEqual({ tokens: { available: 3 }, waiting: 0 });
    client.settle(1, true, {}); // a second answer to the same request is ignored
  });
});

describe('the types of tryAcquire() and stats()', () => {
  it('are synchronous on LimitSet and a pool of LimitSets, MaybePromise on LimitsLike (this.limits)', () => {
    const set = new LimitSet([new RateLimit({ key: 'tokens', window: 1000, capacity: 10 })]);
    expectTypeOf(set.tryAcquire({ tokens: 1 })).toEqualTypeOf<Acquisition | undefined>();
    expectTypeOf(set.stats()).toEqualTypeOf<Record<string, unknown>>();
    const pool = new LimitPool([set]);
    expectTypeOf(pool.tryAcquire({ tokens: 1 })).toEqualTypeOf<Acquisition | undefined>();
    const limits: LimitsLike = pool;
    expectTypeOf(limits.tryAcquire({ tokens: 1 })).toEqualTypeOf<Acquisition | undefined | Promise<Acquisition | undefined>>();
    expectTypeOf(limits.stats()).toEqualTypeOf<Record<string, unknown> | Promise<Record<string, unknown>>>();
    expect(set.needsUpdate('tokens')).toBe(true);
    expect(limits.needsUpdate('tokens')).toBe(true);
    expect(limits.needsUpdate('other')).toBe(false);
  });
});
