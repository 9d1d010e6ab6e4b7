/**
 * Time as a dependency. Retries, limits and timeouts read the time and set timers only through a
 * {@link Clock}, so tests can drive them with {@link FakeClock} instead of sleeping.
 */

import { clearLongTimeout, setLongTimeout, type LongTimeout } from './util/long-timeout.js';

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** The source of time and timers. Milliseconds throughout. */
export interface Clock {
  /** Current time in ms (monotonic for the system clock). */
  now(): number;
  /** Runs `fn` after `ms`; the returned handle goes to {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock: `performance.now()` and Node timers. Delays above Node's 2**31-1 ms limit are
 * honoured (timers are chained) and `Infinity` never fires, so user-given durations mean what they say.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setLongTimeout(fn, ms),
  clearTimeout: (h) => clearLongTimeout(h as LongTimeout),
};

/** Resolves after `ms` on `clock`; rejects with the signal's reason when `signal` aborts. */
export function sleep(ms: number, clock: Clock = systemClock, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The abort reason is the caller's and may be any value (AbortSignal.reason is `any`): it is
    // passed on unchanged, as every other abortable API does.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the reason is the caller's value of any type, passed through
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(handle);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- as above
      reject(signal!.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A manual clock for tests: time moves only when you call {@link FakeClock.advance} (or
 * {@link FakeClock.runAll}), which fires due timers in time order and lets promise callbacks
 * run between them.
 */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), fn };
    // A timer at Infinity never fires (as on the system clock): runAll() must not reach it either.
    if (timer.at !== Infinity) this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** The time the next timer fires, or undefined. */
  nextTimerAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      this.timers = this.timers.filter((t) => t !== next);
      next.fn();
      await flushMicrotasks();
    }
    this.time = target;
    await flushMicrotasks();
  }

  /** Fires timers until none are left (bounded by `maxTimers` to catch endless loops). */
  async runAll(maxTimers = 100_000): Promise<void> {
    await flushMicrotasks();
    for (let i = 0; i < maxTimers; i++) {
      const at = this.nextTimerAt();
      if (at === undefined) return;
      await this.advance(at - this.time);
    }
    throw new Error(`FakeClock.runAll: more than ${maxTimers} timers fired`);
  }

  private nextDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  }
}

/** Lets pending promise callbacks run (several turns, for chains of awaits). */
export async function flushMicrotasks(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

/** Source of randomness in [0, 1), injectable for deterministic jitter and balancing. */
export type RandomSource = () => number;

/** A small seeded PRNG (mulberry32) for reproducible tests and chaos. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
