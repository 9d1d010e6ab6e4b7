/** IpcTransport over a fake channel: what it posts, how replies find their calls, what a crash settles. */
import { describe, expect, it } from 'vitest';
import { WorkerCrashedError } from '../../src/errors.js';
import { flushMicrotasks } from '../../src/clock.js';
import { LimitSet, ResourceLimit } from '../../src/index.js';
import { IpcTransport } from '../../src/modes/ipc/ipc-transport.js';
import { MAX_BATCH, WIRE_STRIDE, type LimitsAcquireReply } from '../../src/modes/ipc/protocol.js';
import { CallNotStartedError } from '../../src/modes/not-started.js';
import { encodeError } from '../../src/serialize/errors.js';
import type { TransportInit } from '../../src/modes/transport.js';
import { FakeChannel, Outcome, call, fakeInit } from './fakes.js';

function transport(overrides: Partial<TransportInit> = {}) {
  const channel = new FakeChannel();
  const init = fakeInit(overrides);
  const t = new IpcTransport(init, channel);
  channel.receive({ t: 'ready' });
  return { t, channel, init };
}

/** The slots of the calls in the 'calls' posts so far, in wire order. */
function postedSlots(channel: FakeChannel): number[] {
  const slots: number[] = [];
  for (const m of channel.postsOf('calls')) for (let i = 0; i < m.batch.length; i += WIRE_STRIDE) slots.push(m.batch[i] as number);
  return slots;
}

describe('IpcTransport (fake channel)', () => {
  it('posts init with the class and its methods, then the calls of one tick as one batch naming methods by index', async () => {
    const { t, channel } = transport();
    const init = channel.postsOf('init')[0];
    expect(init).toMatchObject({ exportName: 'Calc', methods: ['add', 'slow'], moduleCandidates: ['file:///fake/calc.js'] });
    t.send(call('add', 1, 2), new Outcome());
    t.send(call('slow'), new Outcome());
    t.send(call('notAMethod', 'x'), new Outcome());
    expect(channel.postsOf('calls')).toEqual([]); // nothing until the tick is over
    await flushMicrotasks();
    expect(channel.postsOf('calls')).toEqual([{ t: 'calls', batch: [0, 0, [1, 2], 1, 1, [], 2, 'notAMethod', ['x']] }]);
  });

  it(`posts a batch as soon as it holds ${MAX_BATCH} calls, so the worker starts while the caller still submits`, async () => {
    const { t, channel } = transport();
    for (let i = 0; i < MAX_BATCH + 1; i++) t.send(call('add', i, i), new Outcome());
    expect(channel.postsOf('calls').map((m) => m.batch.length / WIRE_STRIDE)).toEqual([MAX_BATCH]);
    await flushMicrotasks();
    expect(channel.postsOf('calls').map((m) => m.batch.length / WIRE_STRIDE)).toEqual([MAX_BATCH, 1]);
  });

  it('settles each call with its own result, whatever order the results come in, and reuses freed slots', async () => {
    const { t, channel } = transport();
    const outs = [new Outcome(), new Outcome(), new Outcome()];
    outs.forEach((o, i) => t.send(call('add', i, i), o));
    await flushMicrotasks();
    const [a, b, c] = postedSlots(channel);
    channel.receive({ t: 'results', batch: [c, true, 'C', a, false, encodeError(new RangeError('bad a'))] });
    channel.receive({ t: 'results', batch: [b, true, 'B'] });
    expect(outs.map((o) => o.state)).toEqual(['rejected', 'resolved', 'resolved']);
    expect(outs[0].error).toBeInstanceOf(RangeError);
    expect(outs[0].error.message).toBe('bad a');
    expect([outs[1].value, outs[2].value]).toEqual(['B', 'C']);
    expect(t.inFlight).toBe(0);
    channel.receive({ t: 'results', batch: [b, true, 'again'] }); // a stale reply settles nothing twice
    expect(outs[1].settlements).toBe(1);

    const next = call('add', 9, 9);
    t.send(next, new Outcome());
    expect([a, b, c]).toContain(next.wireSlot);
  });

  it('a crash settles every call in flight: started ones with WorkerCrashedError, the others as not started; the pool hears first', async () => {
    const order: string[] = [];
    const { t, channel, init } = transport({ onCrash: (e) => order.push(`onCrash: ${e.message}`) });
    const calls = [call('slow'), call('add', 1, 1), call('add', 2, 2)];
    const outs = calls.map(() => new Outcome());
    t.send(calls[0], outs[0]);
    t.send(calls[1], outs[1]);
    await flushMicrotasks();
    t.send(calls[2], outs[2]); // still in the outbox when the worker dies
    outs.forEach((o, i) => {
      const settle = o.reject.bind(o);
      o.reject = (e) => {
        order.push(`settled ${i}`);
        settle(e);
      };
    });
    channel.marker = 1; // the worker had started the first posted call only
    channel.exit({ code: 1 });

    expect(order).toEqual(['onCrash: Worker process of Calc exited with code 1', 'settled 0', 'settled 1', 'settled 2']);
    expect(outs[0].error).toBeInstanceOf(WorkerCrashedError);
    expect(outs[0].error).not.toBeInstanceOf(CallNotStartedError);
    expect(outs[0].error.message).toBe('Worker process of Calc exited with code 1 while running Calc.slow');
    for (const o of outs.slice(1)) {
      expect(o.error).toBeInstanceOf(CallNotStartedError);
      expect(o.error.message).toBe('Worker process of Calc exited with code 1 before Calc.add started');
    }
    expect(init.events).toEqual([{ type: 'crash', workerIndex: 0, error: expect.objectContaining({ message: 'Worker process of Calc exited with code 1' }) }]);
    const late = new Outcome();
    t.send(call('add', 0, 0), late);
    expect(late.error.message).toBe('Worker process of Calc exited with code 1');
    expect(t.inFlight).toBe(0);
  });

  it('cancel drops a call still in the outbox (never posted); a posted one gets a cancel message', async () => {
    const { t, channel } = transport();
    const posted = call('slow');
    t.send(posted, new Outcome());
    await flushMicrotasks();
    const queued = call('add', 1, 2);
    const kept = call('add', 3, 4);
    t.send(queued, new Outcome());
    t.send(kept, new Outcome());
    expect(t.cancel(queued)).toBe(true);
    expect(t.isInFlight(queued)).toBe(false);
    expect(t.cancel(posted)).toBe(false);
    expect(channel.postsOf('cancel')).toEqual([{ t: 'cancel', id: posted.wireSlot }]);
    await flushMicrotasks();
    expect(channel.postsOf('calls')[1]).toEqual({ t: 'calls', batch: [kept.wireSlot, 0, [3, 4]] });
    expect(t.inFlight).toBe(2);
  });

  it('terminate() kills the worker only when the call may be running', async () => {
    const { t, channel } = transport();
    const running = call('slow');
    const waiting = call('slow');
    t.send(running, new Outcome());
    t.send(waiting, new Outcome());
    await flushMicrotasks();
    channel.marker = 1;
    t.terminate(waiting, 'ignored its abort');
    expect(channel.killed).toBe(0);
    t.terminate(running, 'ignored its abort');
    expect(channel.killed).toBe(1);
  });

  it("serves the worker's limits from the handle's set and gives back what a dead worker held", async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'gpu', capacity: 1 })]);
    const { channel } = transport({ limits });
    channel.receive({ t: 'limits', rid: 7, op: 'acquire', requested: { gpu: 1 } });
    await flushMicrotasks();
    const [reply] = channel.postsOf('limits-reply');
    expect(reply).toMatchObject({ t: 'limits-reply', rid: 7, ok: true });
    expect((reply.value as LimitsAcquireReply).amounts).toEqual([['gpu', 1]]);
    expect(limits.tryAcquire({ gpu: 1 })).toBeUndefined(); // the worker holds it

    channel.receive({ t: 'limits', rid: 8, op: 'acquire', requested: { gpu: 1 } }); // waits
    channel.exit({ code: 1 });
    await flushMicrotasks();
    const acq = limits.tryAcquire({ gpu: 1 });
    expect(acq).toBeDefined(); // given back, and the waiting acquire did not take it
    expect(channel.postsOf('limits-reply')).toHaveLength(1); // no reply to a dead worker
    acq!.release();
  });
});
