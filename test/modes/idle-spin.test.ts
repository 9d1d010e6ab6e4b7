import { describe, expect, it } from 'vitest';
import { IdleSpin, MAX_SPIN_MS } from '../../src/modes/remote/idle-spin.js';

/** A port whose clock advances 1 µs per poll; `arrivals` are the times (ms) messages appear. */
function fakePort(arrivals: number[]) {
  let now = 0;
  const delivered: number[] = [];
  let polls = 0;
  const spin = new IdleSpin<number>(
    () => {
      polls++;
      now += 0.001;
      return arrivals.length > 0 && arrivals[0]! <= now ? arrivals.shift() : undefined;
    },
    (m) => delivered.push(m),
    () => now,
  );
  return {
    spin,
    delivered,
    get polls() {
      return polls;
    },
    advance: (ms: number) => (now += ms),
  };
}

describe('IdleSpin (worker-side polling before sleeping)', () => {
  it('delivers a message that arrives within the budget, without sleeping', () => {
    const port = fakePort([0.03]);
    port.spin.idle();
    expect(port.delivered).toEqual([0.03]);
    expect(port.polls).toBe(30);
  });

  it('gives up after the budget, and halves the budget after each fruitless spin until it stops polling', () => {
    const port = fakePort([]);
    port.spin.idle();
    expect(port.polls).toBe(Math.round(MAX_SPIN_MS / 0.001));
    const polls = [port.polls];
    for (let i = 0; i < 8; i++) {
      const before = port.polls;
      port.advance(10);
      port.spin.arrived(); // a call 10 ms after going idle: polling would not have caught it
      port.spin.idle();
      polls.push(port.polls - before);
    }
    // ±1 poll: the fake clock steps in floating-point microseconds.
    [100, 50, 25, 12.5].forEach((expected, i) => expect(Math.abs(polls[i]! - expected)).toBeLessThanOrEqual(1));
    expect(polls.at(-1)).toBe(0);
  });

  it('polls again once calls arrive shortly after it went to sleep', () => {
    const port = fakePort([]);
    for (let i = 0; i < 10; i++) port.spin.idle(); // budget exhausted
    const before = port.polls;
    port.spin.idle();
    expect(port.polls - before).toBe(0);
    port.advance(0.02); // the next call came 20 µs after the worker went idle
    port.spin.arrived();
    const again = port.polls;
    port.spin.idle();
    expect(Math.abs(port.polls - again - 40)).toBeLessThanOrEqual(1); // re-armed at twice the observed gap
  });
});
