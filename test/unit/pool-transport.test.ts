/** PoolTransport over fake member transports: no threads, every worker's behaviour chosen by the test. */
import { describe, expect, it } from 'vitest';
import { CancelledError, WorkerCrashedError, WorkerInitError } from '../../src/errors.js';
import { flushMicrotasks } from '../../src/clock.js';
import { PoolTransport, type PoolSettings } from '../../src/pool/pool-transport.js';
import { Outcome, call, fakeInit, fakeMembers } from './fakes.js';

/** A pool of fake members; `start: false` leaves them starting (a death then is a failed start). */
async function pool(settings: Partial<PoolSettings> = {}, { start = true } = {}) {
  const members = fakeMembers();
  const p = new PoolTransport(fakeInit(), members.factory, {
    maxWorkers: 2,
    loadBalancing: 'round-robin',
    onDemand: false,
    maxQueuedTasks: Infinity,
    crashRetriesFor: () => 0,
    ...settings,
  });
  if (start) for (const m of members.made) m.start();
  await flushMicrotasks(); // the members are up: a death from now on is a crash, not a failed start
  return { p, made: members.made };
}

describe('PoolTransport (fake members)', () => {
  it('spreads calls round-robin and each member receives its calls in send order', async () => {
    const { p, made } = await pool();
    for (const m of ['a', 'b', 'c', 'd', 'e']) p.send(call(m), new Outcome());
    expect(made[0].methods).toEqual(['a', 'c', 'e']);
    expect(made[1].methods).toEqual(['b', 'd']);
    expect(p.inFlight).toBe(5);
  });

  it('holds calls beyond maxQueuedTasks in one FIFO and dispatches them in order as slots free', async () => {
    const { p, made } = await pool({ maxQueuedTasks: 1 });
    const calls = ['a', 'b', 'c', 'd'].map((m) => call(m));
    const outcomes = calls.map(() => new Outcome());
    calls.forEach((c, i) => p.send(c, outcomes[i]));
    expect(made[0].methods).toEqual(['a']);
    expect(made[1].methods).toEqual(['b']);
    expect(p.stats().queued).toBe(2);

    made[1].complete(calls[1], 'B');
    expect(outcomes[1]).toMatchObject({ state: 'resolved', value: 'B' });
    expect(made[1].methods).toEqual(['c']); // the head of the FIFO, not 'd'
    made[0].complete(calls[0], 'A');
    expect(made[0].methods).toEqual(['d']);
    expect(p.stats().queued).toBe(0);
  });

  it('a member crash: the call that may have run rejects with the WorkerCrashedError, the member is replaced', async () => {
    const { p, made } = await pool();
    const running = call('slow');
    const out = new Outcome();
    p.send(running, out);
    made[0].markStarted(running);
    made[0].crash();
    expect(out.state).toBe('rejected');
    expect(out.error).toBeInstanceOf(WorkerCrashedError);
    expect(out.error.message).toBe('Worker thread of Calc exited with code 1 while running Calc.slow');
    expect(made).toHaveLength(3); // worker 0's replacement
    expect(made[2].init.workerIndex).toBe(0);
    expect(p.stats().workers[0]).toMatchObject({ replacements: 1, failed: 1 });
    expect(p.inFlight).toBe(0);
    await flushMicrotasks();
    expect(made[2].sent).toEqual([]); // never re-run without numRetries
  });

  it('a call its crashed member provably never started goes to another member and settles once there', async () => {
    const { p, made } = await pool({ maxWorkers: 1 });
    const first = call('slow');
    const second = call('add', 1, 2);
    const third = call('add', 3, 4);
    const outs = [new Outcome(), new Outcome(), new Outcome()];
    p.send(first, outs[0]);
    p.send(second, outs[1]);
    p.send(third, outs[2]);
    made[0].markStarted(first);
    made[0].crash();
    expect(outs[0].error).toBeInstanceOf(WorkerCrashedError);
    expect(outs[1].state).toBe('pending');
    await flushMicrotasks();
    const replacement = made[1];
    expect(replacement.methods).toEqual(['add', 'add']);
    expect(replacement.sent.map((s) => s.call)).toEqual([second, third]); // in their original order
    replacement.start();
    replacement.complete(second, 3);
    replacement.complete(third, 7);
    expect(outs.slice(1).map((o) => [o.state, o.value, o.settlements])).toEqual([
      ['resolved', 3, 1],
      ['resolved', 7, 1],
    ]);
    expect(p.inFlight).toBe(0);
  });

  it('re-sends a call that may have run within the method\'s numRetries, then gives its crash error', async () => {
    const { p, made } = await pool({ maxWorkers: 1, crashRetriesFor: (m) => (m === 'slow' ? 1 : 0) });
    const c = call('slow');
    const out = new Outcome();
    p.send(c, out);
    made[0].markStarted(c);
    made[0].crash('first death');
    await flushMicrotasks();
    expect(out.state).toBe('pending');
    expect(made[1].sent.map((s) => s.call)).toEqual([c]);
    made[1].start();
    await flushMicrotasks();
    made[1].markStarted(c);
    made[1].crash('second death');
    expect(out.error.message).toBe('second death while running Calc.slow');
    await flushMicrotasks();
    expect(made[2].sent).toEqual([]);
  });

  it('cancel drops a call waiting in the pool FIFO without sending it', async () => {
    const { p, made } = await pool({ maxWorkers: 1, maxQueuedTasks: 1 });
    const busy = call('slow');
    const waiting = call('add', 1, 1);
    const out = new Outcome();
    p.send(busy, new Outcome());
    p.send(waiting, out);
    expect(p.cancel(waiting)).toBe(true);
    expect(p.inFlight).toBe(1);
    made[0].complete(busy, 0);
    expect(made[0].sent).toEqual([]);
    expect(out.state).toBe('pending'); // the handle settles a dropped call, not the pool
  });

  it('cancel of a call on a member: a drop frees its slot for the next waiting call; a running call is only asked to abort', async () => {
    const { p, made } = await pool({ maxWorkers: 1, maxQueuedTasks: 1 });
    const queuedOnMember = call('a');
    const next = call('b');
    p.send(queuedOnMember, new Outcome());
    p.send(next, new Outcome());
    expect(p.cancel(queuedOnMember)).toBe(true);
    expect(made[0].sent.map((s) => s.call)).toEqual([next]);

    made[0].markStarted(next);
    expect(p.cancel(next)).toBe(false);
    expect(made[0].cancelRequests).toEqual([queuedOnMember, next]);
    expect(p.isInFlight(next)).toBe(true);
  });

  it('a cancelled call is not re-sent when its worker dies', async () => {
    const { p, made } = await pool({ maxWorkers: 1, crashRetriesFor: () => 5 });
    const c = call('slow');
    const out = new Outcome();
    p.send(c, out);
    made[0].markStarted(c);
    p.cancel(c);
    made[0].crash();
    await flushMicrotasks();
    expect(out.error).toBeInstanceOf(WorkerCrashedError);
    expect(made[1].sent).toEqual([]);
  });

  it('stop() rejects the calls waiting in the pool with CancelledError and stops every member', async () => {
    const { p, made } = await pool({ maxQueuedTasks: 1 });
    const outs = [new Outcome(), new Outcome(), new Outcome()];
    outs.forEach((o, i) => p.send(call(`m${i}`), o));
    await p.stop(250);
    expect(outs[2].error).toBeInstanceOf(CancelledError);
    expect(outs[2].error.message).toBe('Pool stopped before the call was sent');
    expect(outs[0].state).toBe('pending'); // running calls are the members' to finish
    expect(made.map((m) => m.stoppedWith)).toEqual([250, 250]);
  });

  it('a worker that dies before any worker ever started: ready(), queued and later calls reject with WorkerInitError', async () => {
    const { p, made } = await pool({ maxWorkers: 1 }, { start: false });
    const out = new Outcome();
    p.send(call('add', 1, 2), out);
    made[0].crash('Worker could not start: boom');
    await flushMicrotasks();
    await expect(p.ready()).rejects.toThrow(WorkerInitError);
    await expect(p.ready()).rejects.toThrow('Pool gave up starting workers after 3 failed starts in a row: Worker could not start: boom');
    expect(out.error).toBeInstanceOf(WorkerInitError);
    const later = new Outcome();
    p.send(call('add', 1, 2), later);
    expect(later.error).toBe(out.error);
    expect(made).toHaveLength(1); // no replacement: a first start that fails is final
  });
});
