/** CallGuard over a fake transport and a fake clock: timeouts, the circuit, fallbacks, hedges. */
import { describe, expect, it } from 'vitest';
import { CancelledError, CircuitOpenError, TimeoutError } from '../../src/errors.js';
import { FakeClock, flushMicrotasks } from '../../src/clock.js';
import { CallGuard, type GuardStats, type GuardTarget } from '../../src/resilience/guard.js';
import type { ResilienceOptions } from '../../src/resilience/options.js';
import type { RuntimeEvent } from '../../src/observability/events.js';
import { FakeTransport, Outcome, call, fakeInit } from './fakes.js';

class Target extends Outcome implements GuardTarget {
  fallbackUsed = false;
  get done(): boolean {
    return this.state !== 'pending';
  }
  resolveWithFallback(value: unknown): void {
    this.fallbackUsed = true;
    this.resolve(value);
  }
}

function stats(): GuardStats {
  return { timeouts: 0, circuitRejections: 0, hedges: 0, hedgeWins: 0, fallbacks: 0, staleFallbacks: 0 };
}

function guarded(options: ResilienceOptions) {
  const clock = new FakeClock();
  const transport = new FakeTransport(fakeInit());
  transport.start();
  const events: RuntimeEvent[] = [];
  let id = 1000;
  const guard = new CallGuard({ className: 'Calc', methods: ['add', 'slow'], transport, clock, options, emit: (e) => events.push(e), nextId: () => id++ });
  const send = (method: string, s = stats()) => {
    const c = call(method);
    const target = new Target();
    const gc = guard.send(c, target, s);
    return { c, target, gc, s };
  };
  return { clock, transport, events, guard, send };
}

describe('CallGuard (fake transport, fake clock)', () => {
  it('times a call out exactly at its deadline with TimeoutError, asks the transport to drop it, and ignores the late result', async () => {
    const { clock, transport, send, events } = guarded({ timeout: 100 });
    const { c, target, s } = send('slow');
    await clock.advance(99);
    expect(target.state).toBe('pending');
    await clock.advance(1);
    expect(target.error).toBeInstanceOf(TimeoutError);
    expect(target.error.message).toBe('Calc.slow timed out after 100 ms');
    expect(s.timeouts).toBe(1);
    expect(transport.cancelRequests).toEqual([c]);
    expect(events).toContainEqual({ type: 'timeout', methodName: 'slow', timeoutMs: 100 });
    expect(transport.sent).toEqual([]); // it had not started: dropped
  });

  it('a timed-out call that keeps running past the grace period costs its worker', async () => {
    const { clock, transport, send } = guarded({ timeout: 100, timeoutGrace: 50 });
    const { c } = send('slow');
    transport.markStarted(c);
    await clock.advance(100);
    await clock.advance(49);
    expect(transport.terminated).toEqual([]);
    await clock.advance(1);
    expect(transport.terminated).toEqual([{ call: c, reason: 'Calc.slow kept running 50 ms after its 100 ms timeout aborted its signal' }]);
  });

  it('a timed-out call that stops within the grace period keeps its worker', async () => {
    const { clock, transport, send } = guarded({ timeout: 100, timeoutGrace: 50 });
    const { c } = send('slow');
    transport.markStarted(c);
    await clock.advance(100);
    transport.fail(c, new CancelledError('aborted'));
    await clock.advance(1000);
    expect(transport.terminated).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('opens the circuit after failureThreshold failures, rejects without sending, and lets a probe through after recoveryTimeout', async () => {
    const { clock, transport, send, guard } = guarded({ circuitBreaker: { failureThreshold: 2, recoveryTimeout: 1000 } });
    for (let i = 0; i < 2; i++) {
      const { c, target } = send('add');
      transport.fail(c, new Error(`down ${i}`));
      expect(target.error.message).toBe(`down ${i}`);
    }
    expect(guard.circuit.state).toBe('open');
    const rejected = send('add');
    expect(rejected.target.error).toBeInstanceOf(CircuitOpenError);
    expect(rejected.target.error.message).toMatch(/^Circuit '.*' is open after .*; next probe in 1000 ms$/);
    expect(rejected.s.circuitRejections).toBe(1);
    expect(transport.sent).toEqual([]);

    await clock.advance(1000);
    const probe = send('add');
    expect(transport.sent.map((s) => s.call)).toEqual([probe.c]);
    transport.complete(probe.c, 2);
    expect(probe.target.value).toBe(2);
    expect(guard.circuit.state).toBe('closed');
  });

  it('a fallback function settles a failed call with its value, counted apart from successes', () => {
    const seen: unknown[] = [];
    const { transport, send, events } = guarded({
      fallback: (error, ctx) => {
        seen.push([(error as Error).message, ctx.methodName]);
        return -1;
      },
    });
    const { c, target, s } = send('add');
    transport.fail(c, new Error('nope'));
    expect(target).toMatchObject({ state: 'resolved', value: -1, fallbackUsed: true, settlements: 1 });
    expect(seen).toEqual([['nope', 'add']]);
    expect(s.fallbacks).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['fallback']);
  });

  it('an async fallback settles once it resolves; one that rejects gives its own error', async () => {
    let fail = false;
    const { transport, send } = guarded({ fallback: () => (fail ? Promise.reject(new Error('fallback failed')) : Promise.resolve('later')) });
    const first = send('add');
    transport.fail(first.c, new Error('nope'));
    expect(first.target.state).toBe('pending');
    await flushMicrotasks();
    expect(first.target).toMatchObject({ state: 'resolved', value: 'later', fallbackUsed: true });

    fail = true;
    const second = send('add');
    transport.fail(second.c, new Error('nope'));
    await flushMicrotasks();
    expect(second.target.error.message).toBe('fallback failed');
  });

  it('a fixed fallback value answers a failure and a timeout, but never a cancellation', async () => {
    const { clock, transport, send } = guarded({ fallback: 0, timeout: 10 });
    const failed = send('add');
    transport.fail(failed.c, new Error('nope'));
    expect(failed.target).toMatchObject({ state: 'resolved', value: 0, fallbackUsed: true });

    const timed = send('slow');
    await clock.advance(10);
    expect(timed.target).toMatchObject({ state: 'resolved', value: 0, fallbackUsed: true });

    const cancelled = send('add');
    transport.markStarted(cancelled.c);
    transport.fail(cancelled.c, new CancelledError('Call was cancelled'));
    expect(cancelled.target.error).toBeInstanceOf(CancelledError);
  });

  it('cancel() drops every leg, clears its timers and records nothing as a success', async () => {
    const { clock, transport, guard, send } = guarded({ timeout: 100 });
    const { c, gc, target } = send('add');
    expect(guard.cancel(gc)).toBe(true);
    expect(transport.cancelRequests).toEqual([c]);
    await clock.advance(100);
    expect(target.state).toBe('pending'); // the handle settles a cancelled call
    expect(guard.cancel(gc)).toBe(false);
  });
});
