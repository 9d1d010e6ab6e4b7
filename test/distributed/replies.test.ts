/** The host's Outbox against a fake Redis client: one list element per caller per tick, and a result that cannot travel fails alone. */
import { describe, expect, it } from 'vitest';
import type { ScriptClient } from '../../src/modes/distributed/lua.js';
import { Outbox } from '../../src/modes/distributed/host/replies.js';
import { decodeError } from '../../src/serialize/errors.js';
import { Keys, REPLY_TTL_MS, TAG_MESSAGES, unpack, type HostMessage } from '../../src/modes/distributed/wire.js';

function fakeClient() {
  const lists = new Map<string, Buffer[]>();
  const ttls = new Map<string, number>();
  const client = {
    rpush: (key: string, ...elements: Buffer[]) => {
      lists.set(key, [...(lists.get(key) ?? []), ...elements]);
      return Promise.resolve(lists.get(key)!.length);
    },
    pexpire: (key: string, ms: number) => {
      ttls.set(key, ms);
      return Promise.resolve(1);
    },
  };
  return { client: client as unknown as ScriptClient, lists, ttls };
}

/** The messages of each element of a reply list. */
function messages(elements: Buffer[] | undefined): HostMessage[][] {
  return (elements ?? []).map((b) => {
    expect(b[0]).toBe(TAG_MESSAGES);
    return unpack<HostMessage[]>(b.subarray(1));
  });
}

describe('Outbox', () => {
  const keys = new Keys('t');

  it('sends what is posted in one tick as one element per caller; results of one instance merge', async () => {
    const { client, lists, ttls } = fakeClient();
    const outbox = new Outbox({ client: () => client, keys, className: () => 'Echo', log: () => {} });
    outbox.post('c1', { t: 'ready', i: 'a' });
    outbox.post('c1', { t: 'r', i: 'a', b: [[1, true, 'x']] });
    outbox.post('c1', { t: 'r', i: 'a', b: [[2, true, 'y']] });
    outbox.post('c2', { t: 'stopped', i: 'b' });
    await outbox.flush();
    expect(messages(lists.get(keys.reply('c1')))).toEqual([
      [
        { t: 'ready', i: 'a' },
        { t: 'r', i: 'a', b: [[1, true, 'x'], [2, true, 'y']] },
      ],
    ]);
    expect(messages(lists.get(keys.reply('c2')))).toEqual([[{ t: 'stopped', i: 'b' }]]);
    expect(ttls.get(keys.reply('c1'))).toBe(REPLY_TTL_MS);
  });

  it('a result that cannot be encoded rejects alone, naming the class and the call', async () => {
    const { client, lists } = fakeClient();
    const outbox = new Outbox({ client: () => client, keys, className: () => 'Echo', log: () => {} });
    outbox.post('c1', { t: 'r', i: 'a', b: [[1, true, 'fine'], [2, true, () => 1]] });
    await outbox.flush();
    const [[msg]] = messages(lists.get(keys.reply('c1'))) as [[HostMessage]];
    expect(msg.t).toBe('r');
    const [first, second] = msg.t === 'r' ? msg.b : [];
    expect(first).toEqual([1, true, 'fine']);
    expect(second?.slice(0, 2)).toEqual([2, false]);
    const error = decodeError(second?.[2]);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^The result of Echo call 2 cannot be sent back from the worker: /);
  });

  it('a failed send is logged (without secrets) and does not reject', async () => {
    const lines: string[] = [];
    const failing = { rpush: () => Promise.reject(new Error('connect to redis://:hunter2@h failed')), pexpire: () => Promise.resolve(1) };
    const outbox = new Outbox({ client: () => failing as unknown as ScriptClient, keys, className: () => undefined, log: (l) => void lines.push(l) });
    outbox.post('c1', { t: 'ready', i: 'a' });
    await outbox.flush(); // resolves: a host never stops on a failed send
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^could not send results: /);
    expect(lines[0]).not.toContain('hunter2');
  });
});
