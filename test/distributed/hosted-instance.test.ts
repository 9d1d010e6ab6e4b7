/**
 * HostedInstance against a fake host (no Redis): it talks to its host only through InstanceHost,
 * so ordering, settlement and refusals can be checked directly.
 */
import type { Job, Worker as BullWorker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { CancelledError, WorkerCrashedError, WorkerInitError } from '../../src/errors.js';
import { emptyLimitSet } from '../../src/limits/index.js';
import { HostedInstance, type InstanceHost } from '../../src/modes/distributed/host/hosted-instance.js';
import { HostRefusedError, type WorkerClass } from '../../src/modes/distributed/security.js';
import { decodeError } from '../../src/serialize/errors.js';
import { pack, type HostMessage, type PlacementPayload, type WireCall } from '../../src/modes/distributed/wire.js';

class Echo {
  echo(x: unknown): unknown {
    return x;
  }
  hang(): Promise<never> {
    return new Promise(() => {});
  }
}

interface FakeHost extends InstanceHost {
  sent: HostMessage[];
  feed(seq: number, calls: WireCall[]): void;
  warnings: string[];
}

function fakeHost(classes: Record<string, WorkerClass>, maxConcurrency: unknown = 1): FakeHost {
  let processor: ((job: Job) => void) | undefined;
  const host: FakeHost = {
    id: 'host-1',
    sent: [],
    warnings: [],
    workerClass(name) {
      const cls = classes[name];
      if (!cls) throw new HostRefusedError(`This host has no worker class ${name}`);
      return cls;
    },
    runtimeOptions: <T>() => ({ maxConcurrency }) as T,
    limits: () => emptyLimitSet(),
    budget: () => ({ recordCall: () => {}, tryRetry: () => true }),
    instanceWorker(_id, p) {
      processor = p;
      return { close: () => Promise.resolve() } as unknown as BullWorker;
    },
    post: (_callerId, msg) => void host.sent.push(msg),
    flush: () => Promise.resolve(),
    warn: (line) => void host.warnings.push(line),
    feed(seq, calls) {
      processor!({ data: { s: seq, c: pack(calls).toString('base64') } } as Job);
    },
  };
  return host;
}

function placement(cls: string): { i: string; c: string; cls: string; p: string } {
  const payload: PlacementPayload = { ctorArgs: [], runtimeOptions: {}, workerIndex: 0 };
  return { i: 'inst-1', c: 'caller-1', cls, p: pack(payload).toString('base64') };
}

/** Every result the instance posted, as [call id, ok, value or decoded error]. */
function results(host: FakeHost): [number, boolean, unknown][] {
  return host.sent.flatMap((m) => (m.t === 'r' ? m.b.map(([id, ok, v]): [number, boolean, unknown] => [id, ok, ok ? v : decodeError(v)]) : []));
}

describe('HostedInstance (fake host)', () => {
  it('runs numbered batches in number order whatever order they arrive in', async () => {
    const host = fakeHost({ Echo });
    const inst = new HostedInstance(host, placement('Echo'));
    await inst.start();
    expect(host.sent[0]).toEqual({ t: 'ready', i: 'inst-1' });
    host.feed(3, [[5, 'echo', ['e']]]);
    host.feed(2, [[3, 'echo', ['c']], [4, 'echo', ['d']]]);
    expect(results(host)).toEqual([]);
    host.feed(1, [[1, 'echo', ['a']], [2, 'echo', ['b']]]);
    await inst.stop(0, true);
    expect(results(host)).toEqual([
      [1, true, 'a'],
      [2, true, 'b'],
      [3, true, 'c'],
      [4, true, 'd'],
      [5, true, 'e'],
    ]);
    expect(host.sent.at(-1)).toEqual({ t: 'stopped', i: 'inst-1' });
  });

  it('a class the host does not have: init-error with the refusal, and the instance ends', async () => {
    const host = fakeHost({});
    const inst = new HostedInstance(host, placement('Missing'));
    await inst.start();
    await inst.finished;
    expect(host.sent).toHaveLength(1);
    const msg = host.sent[0]!;
    expect(msg.t).toBe('init-error');
    const error = decodeError(msg.t === 'init-error' ? msg.e : undefined);
    expect(error).toBeInstanceOf(WorkerInitError);
    expect((error as Error).message).toBe('Missing could not start on host host-1: This host has no worker class Missing');
  });

  it('refuses options without a valid maxConcurrency (init-error naming it)', async () => {
    const host = fakeHost({ Echo }, 0);
    await new HostedInstance(host, placement('Echo')).start();
    const msg = host.sent[0]!;
    const error = decodeError(msg.t === 'init-error' ? msg.e : undefined);
    expect(error).toBeInstanceOf(WorkerInitError);
    expect((error as Error).message).toBe(
      'Echo could not start on host host-1: This host refuses a placement whose options are not what a caller sends (maxConcurrency is 0)',
    );
    expect((error as Error).cause).toBeInstanceOf(HostRefusedError);
  });

  it('stopped by its caller: a call cut short is a CancelledError; ended by the host: a WorkerCrashedError', async () => {
    for (const report of [true, false]) {
      const host = fakeHost({ Echo });
      const inst = new HostedInstance(host, placement('Echo'));
      await inst.start();
      // Call 2 waits behind the call that never ends (maxConcurrency 1): stopping cuts it short.
      host.feed(1, [[1, 'hang', []], [2, 'echo', ['b']]]);
      await inst.stop(0, report);
      const cut = results(host).find(([id]) => id === 2);
      expect(cut?.[1]).toBe(false);
      if (report) {
        expect(cut?.[2]).toBeInstanceOf(CancelledError);
        expect((cut?.[2] as Error).message).toBe('Worker stopped before the call ran');
      } else {
        expect(cut?.[2]).toBeInstanceOf(WorkerCrashedError);
        expect((cut?.[2] as Error).message).toBe(
          'The host ended Echo (its state in Redis was lost, or the host is shutting down): Worker stopped before the call ran',
        );
      }
    }
  });

  it('a cancel for a call not yet received cancels it on arrival; a bad batch is skipped with a warning', async () => {
    const host = fakeHost({ Echo });
    const inst = new HostedInstance(host, placement('Echo'));
    await inst.start();
    inst.cancel(2);
    host.feed(1, [[1, 'echo', ['a']], [2, 'echo', ['b']]]);
    host.feed(2, 'not calls' as unknown as WireCall[]);
    host.feed(3, [[3, 'echo', ['c']]]);
    await inst.stop(0, true);
    const got = results(host);
    expect(got.map(([id, ok]) => [id, ok])).toEqual([
      [1, true],
      [2, false],
      [3, true],
    ]);
    expect(got[1]![2]).toBeInstanceOf(CancelledError);
    expect((got[1]![2] as Error).message).toBe('Call was cancelled');
    expect(host.warnings).toEqual(['instance inst-1: ignored a batch that cannot be decoded (not an array)']);
  });
});
