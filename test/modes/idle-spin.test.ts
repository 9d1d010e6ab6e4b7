import { describe, expect, it } from 'vitest';
import { IdleSpin, spinGate, type SpinPolicy } from '../../src/modes/ipc/idle-spin.js';

const POLICY: SpinPolicy = { maxMs: 1, fastMs: 0.1, warmupMessages: 0, preemptedMs: 0.5, backoffMs: 100 };

/**
 * A port whose clock advances 1 µs per poll; `arrivals` are the times (ms) messages appear;
 * `stalls` maps a poll's number (1 = the first poll ever) to extra ms the clock jumps during it,
 * as when the thread loses its CPU.
 */
function fakePort(arrivals: number[], policy = POLICY, gate?: ReturnType<typeof spinGate>, stalls = new Map<number, number>()) {
  let now = 0;
  const delivered: number[] = [];
  let polls = 0;
  const spin = new IdleSpin<number>(
    () => {
      polls++;
      now += 0.001 + (stalls.get(polls) ?? 0);
      return arrivals.length > 0 && arrivals[0]! <= now ? arrivals.shift() : undefined;
    },
    (m) => delivered.push(m),
    policy,
    gate,
    () => now,
  );
  return {
    spin,
    delivered,
    arrivals,
    get polls() {
      return polls;
    },
    get now() {
      return now;
    },
    advance: (ms: number) => (now += ms),
  };
}

/** Polls made by one idle() call. */
function pollsOf(port: ReturnType<typeof fakePort>): number {
  const before = port.polls;
  port.spin.idle();
  return port.polls - before;
}

// ±1 poll below: the fake clock steps in floating-point microseconds.
const about = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1);

describe('IdleSpin (polling for the next message before sleeping)', () => {
  it('delivers a message that arrives within the budget, without sleeping', () => {
    const port = fakePort([0.03]);
    port.spin.idle();
    expect(port.delivered).toEqual([0.03]);
    expect(port.polls).toBe(30);
  });

  it('gives up after the budget, and halves it after each fruitless spin until it stops polling', () => {
    const port = fakePort([]);
    const polls: number[] = [];
    for (let i = 0; i < 12; i++) {
      polls.push(pollsOf(port));
      port.advance(10);
      port.spin.arrived(); // a message 10 ms after going idle: polling would not have caught it
    }
    [1000, 500, 250, 125].forEach((expected, i) => about(polls[i]!, expected));
    expect(polls.at(-1)).toBe(0);
  });

  it('in a fast conversation the budget goes back to the maximum, so one hiccup does not make it sleep', () => {
    const port = fakePort([]);
    pollsOf(port); // a hiccup: nothing for 1 ms, the budget halves
    port.arrivals.push(port.now + 0.005);
    about(pollsOf(port), 5); // the next message came 5 µs later: a fast conversation
    port.arrivals.push(port.now + 0.9);
    about(pollsOf(port), 900); // a 900 µs hiccup is still ridden out, no sleep
    expect(port.delivered).toHaveLength(2);
  });

  it('polling that only finds messages after long waits is cut back (sparse traffic costs no CPU)', () => {
    const port = fakePort([]);
    const polls: number[] = [];
    for (let i = 0; i < 12; i++) {
      port.arrivals.push(port.now + 0.4); // a call every 400 µs
      polls.push(pollsOf(port));
      if (port.arrivals.length > 0) {
        port.advance(0.4); // not caught by polling: it arrives by the event loop
        port.arrivals.length = 0;
        port.spin.arrived();
      }
    }
    about(polls[0]!, 400); // caught, but after more than fastMs: the budget halves to 500 µs
    about(polls[1]!, 400);
    about(polls[2]!, 250); // 250 µs: missed, and a 400 µs gap does not re-arm polling
    expect(polls.slice(-3)).toEqual([0, 0, 0]);
  });

  it('polls again once messages arrive shortly after it went to sleep', () => {
    const port = fakePort([]);
    for (let i = 0; i < 12; i++) port.spin.idle(); // budget exhausted
    expect(pollsOf(port)).toBe(0);
    port.advance(0.02); // the next message came 20 µs after going idle
    port.spin.arrived();
    about(pollsOf(port), 40); // re-armed at twice the observed gap
  });

  it('does not poll until the warm-up messages have arrived, then polls as the conversation asks', () => {
    const port = fakePort([], { ...POLICY, warmupMessages: 5 });
    for (let i = 0; i < 5; i++) {
      expect(port.spin.polls).toBe(false);
      expect(pollsOf(port)).toBe(0);
      port.advance(0.05); // a fast conversation: a message every 50 µs, found by the event loop
      port.spin.arrived();
    }
    expect(port.spin.polls).toBe(true);
    about(pollsOf(port), 100); // re-armed at twice the last gap
    port.arrivals.push(port.now + 0.005);
    about(pollsOf(port), 5); // a fast hit: back to the full budget
    port.arrivals.push(port.now + 0.9);
    about(pollsOf(port), 900);
    expect(port.delivered).toHaveLength(2);
  });

  it('does not poll when the gate is full, and frees its place when done', () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const gate = spinGate(counter, 1);
    expect(gate.enter()).toBe(true); // another thread is polling
    const port = fakePort([], POLICY, gate);
    expect(pollsOf(port)).toBe(0);
    expect(counter[0]).toBe(1);
    gate.leave();
    port.arrivals.push(port.now + 0.01);
    about(pollsOf(port), 10);
    expect(counter[0]).toBe(0);
  });
});

describe('IdleSpin on a busy machine (more runnable threads than CPUs)', () => {
  it('stops a poll that lost its CPU; a second loss soon after pauses polling for the back-off, then it polls again', () => {
    // Polls 10 and 20 are preempted for 2 ms each (the budget halves at each: 1 → 0.5 → 0.25 ms).
    const port = fakePort([], POLICY, undefined, new Map([[10, 2], [20, 2]]));
    expect(pollsOf(port)).toBe(10); // stopped at once, not after the 1 ms budget
    expect(port.spin.polls).toBe(true); // one preemption alone: no pause
    port.advance(50);
    expect(pollsOf(port)).toBe(10); // preempted again 52 ms later
    expect(port.spin.polls).toBe(false);
    port.arrivals.push(port.now + 0.01);
    expect(pollsOf(port)).toBe(0); // paused: the message is left for the event loop
    port.advance(0.01);
    port.arrivals.length = 0;
    port.spin.arrived();
    port.advance(99);
    expect(port.spin.polls).toBe(false); // 100 ms after the preemption, not before
    port.advance(1);
    expect(port.spin.polls).toBe(true);
    port.arrivals.push(port.now + 0.005);
    about(pollsOf(port), 5); // the machine quieted down: a fast hit restores the full budget
    port.arrivals.push(port.now + 0.9);
    about(pollsOf(port), 900);
    expect(port.delivered).toHaveLength(2);
  });

  it('does not pause for preemptions further apart than the back-off (a GC helper now and then)', () => {
    const port = fakePort([], POLICY, undefined, new Map([[10, 2], [20, 2]]));
    pollsOf(port);
    port.advance(101);
    pollsOf(port);
    port.arrivals.push(port.now + 0.01);
    expect(port.spin.polls).toBe(true);
    about(pollsOf(port), 10);
    expect(port.delivered).toHaveLength(1);
  });

  it('halves the budget at each preemption, so a machine that stays busy ends polling', () => {
    const stalls = new Map<number, number>();
    const port = fakePort([], POLICY, undefined, stalls);
    for (let i = 0; i < 12; i++) {
      stalls.set(port.polls + 3, 1); // every poll loses its CPU at its third try
      pollsOf(port);
      port.advance(100);
    }
    expect(port.spin.polls).toBe(false);
    expect(pollsOf(port)).toBe(0);
  });

  it('does not take short gaps (interrupts, page faults) for preemption', () => {
    const stalls = new Map([5, 20, 40].map((n) => [n, 0.3] as [number, number])); // three 300 µs gaps
    const port = fakePort([0.95], POLICY, undefined, stalls);
    pollsOf(port);
    expect(port.delivered).toEqual([0.95]); // polled through the gaps, and no pause
    expect(port.spin.polls).toBe(true);
  });
});

describe('spinGate', () => {
  it('admits at most `limit` pollers at once', () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const gate = spinGate(counter, 2);
    expect([gate.enter(), gate.enter(), gate.enter()]).toEqual([true, true, false]);
    gate.leave();
    expect(gate.enter()).toBe(true);
    expect(spinGate(counter, 0).enter()).toBe(false);
    expect(counter[0]).toBe(2);
  });
});
