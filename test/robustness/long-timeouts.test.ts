/**
 * Issue 22 item 6: user-given durations above Node's timer maximum (2**31-1 ms) and Infinity.
 * Node turns such delays into 1 ms, so `stop({ timeout: Infinity })` used to cancel running calls
 * at once. Time logic runs on vitest's fake timers, which reproduce Node's overflow.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CancelledError, ConfigError, FakeClock, Future, LimitSet, ResourceLimit, TimeoutError, Worker, asCompleted, gather, systemClock, wait } from '../../src/index.js';
import { MAX_TIMER_MS, clearLongTimeout, setLongTimeout } from '../../src/util/long-timeout.js';
import { Counter } from '../fixtures/workers.js';

const DAY = 24 * 3600 * 1000;

/** Holds calls open until the test releases them. */
class Gate extends Worker {
  static release: (() => void)[] = [];
  async hold(value: string): Promise<string> {
    await new Promise<void>((resolve) => Gate.release.push(resolve));
    return value;
  }
}

function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
}

afterEach(() => {
  vi.useRealTimers();
  Gate.release = [];
});

describe('setLongTimeout', () => {
  it('fires a delay above the timer maximum at the right time, not after 1 ms', () => {
    fakeTimers();
    const fired = vi.fn();
    setLongTimeout(fired, 2 ** 31 + 5);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('never fires for Infinity, and leaves no timer behind', () => {
    fakeTimers();
    const fired = vi.fn();
    setLongTimeout(fired, Infinity);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000 * DAY);
    expect(fired).not.toHaveBeenCalled();
  });

  it('can be cleared while chained, and short delays stay plain timers', () => {
    fakeTimers();
    const fired = vi.fn();
    const t = setLongTimeout(fired, 3 * MAX_TIMER_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    clearLongTimeout(t);
    vi.advanceTimersByTime(3 * MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    const short = vi.fn();
    setLongTimeout(short, 10);
    vi.advanceTimersByTime(10);
    expect(short).toHaveBeenCalledTimes(1);
  });

  it('backs the system clock', () => {
    fakeTimers();
    const fired = vi.fn();
    systemClock.setTimeout(fired, 40 * DAY);
    vi.advanceTimersByTime(39 * DAY);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(DAY);
    expect(fired).toHaveBeenCalledTimes(1);
  });
});

describe('FakeClock', () => {
  it('never fires a timer set for Infinity, not even in runAll()', async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('never'), Infinity);
    clock.setTimeout(() => fired.push('long'), 2 ** 40);
    await clock.runAll();
    expect(fired).toEqual(['long']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an acquire() with timeout: Infinity waits until the limit frees', async () => {
    const clock = new FakeClock();
    const set = new LimitSet([new ResourceLimit({ key: 'slot', capacity: 1 })], { clock });
    const first = await set.acquire({ slot: 1 });
    const second = set.acquire({ slot: 1 }, { timeout: Infinity });
    await clock.runAll();
    await clock.advance(1000 * DAY);
    first.release();
    (await second).release();
  });
});

describe.each(['async', 'sync'] as const)('stop() with long timeouts (%s mode)', (mode) => {
  it.each([
    ['stop({ timeout: Infinity })', { timeout: Infinity }, {}],
    ['stop({ timeout: 2 ** 31 })', { timeout: 2 ** 31 }, {}],
    ['stopTimeout: Infinity', undefined, { stopTimeout: Infinity }],
  ])('%s lets a running call finish', async (_name, stopOptions, workerOptions) => {
    fakeTimers();
    const w = Gate.options({ mode, maxConcurrency: mode === 'async' ? 2 : 1, ...workerOptions }).init();
    const call = w.hold('finished');
    await vi.advanceTimersByTimeAsync(0);
    const stopped = w.stop(stopOptions);
    let stopDone = false;
    void stopped.then(() => (stopDone = true));
    await vi.advanceTimersByTimeAsync(20 * DAY);
    expect(call.done).toBe(false);
    expect(stopDone).toBe(false);
    for (const release of Gate.release) release();
    await expect(call).resolves.toBe('finished');
    await stopped;
  });

  it('a finite timeout above the timer maximum still cancels when it runs out', async () => {
    fakeTimers();
    const w = Gate.options({ mode }).init();
    const call = w.hold('late');
    await vi.advanceTimersByTimeAsync(0);
    const stopped = w.stop({ timeout: 2 ** 31 + 1000 });
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(call.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1001);
    await stopped;
    await expect(call).rejects.toThrow(CancelledError);
  });
});

describe('per-call timeout option beyond the timer maximum', () => {
  it.each([2 ** 31, Infinity])('timeout: %s does not cut the call short; a finite one still fires', async (timeout) => {
    fakeTimers();
    const w = Gate.options({ mode: 'async', timeout }).init();
    const call = w.hold('in time');
    await vi.advanceTimersByTimeAsync(20 * DAY);
    expect(call.done).toBe(false);
    if (timeout === Infinity) {
      for (const release of Gate.release) release();
      await expect(call).resolves.toBe('in time');
    } else {
      await vi.advanceTimersByTimeAsync(5 * DAY);
      await expect(call).rejects.toThrow(TimeoutError);
    }
    for (const release of Gate.release) release();
    await w.stop();
  });
});

describe('waiting with long timeouts', () => {
  it('Future.result, gather, wait and asCompleted do not time out after 1 ms', async () => {
    fakeTimers();
    const f = new Future<string>();
    const results = [
      f.result({ timeout: Infinity }),
      f.result({ timeout: 2 ** 31 }),
      gather([f], { timeout: 2 ** 32 }),
      wait([f], { timeout: Infinity }).then((r) => r.done.size),
      (async () => {
        for await (const [, v] of asCompleted([f], { timeout: 2 ** 31 })) return v;
      })(),
    ];
    await vi.advanceTimersByTimeAsync(20 * DAY);
    f.resolve('ok');
    expect(await Promise.all(results)).toEqual(['ok', 'ok', ['ok'], 1, 'ok']);
  });

  it('a finite long result() timeout still times out', async () => {
    fakeTimers();
    const f = new Future<string>();
    const r = f.result({ timeout: 2 ** 31 + 10 });
    const seen = r.catch((e) => e);
    await vi.advanceTimersByTimeAsync(2 ** 31 + 10);
    expect(await seen).toBeInstanceOf(TimeoutError);
  });
});

describe('stop() option checks', () => {
  it.each([-1, NaN, '100', null, {}])('stop({ timeout: %s }) throws ConfigError naming the option', (timeout) => {
    const w = Counter.options({ mode: 'sync' }).init();
    expect(() => w.stop({ timeout: timeout as number })).toThrow(ConfigError);
    expect(() => w.stop({ timeout: timeout as number })).toThrow(/stop\(\{ timeout \}\).*expected a number of ms >= 0/);
    return w.stop();
  });

  it('stop(options) must be an object', async () => {
    const w = Counter.options({ mode: 'sync' }).init();
    expect(() => w.stop(5 as never)).toThrow(/stop\(\): options must be an object, got 5/);
    await w.stop();
  });
});

describe.each(['thread', 'process'] as const)('stop({ timeout: Infinity }) in %s mode (real time)', (mode) => {
  it('lets a 300 ms call finish', async () => {
    const w = Counter.options({ mode }).init();
    await w.ready();
    const call = w.sleep(300);
    await new Promise((r) => setTimeout(r, 50));
    await w.stop({ timeout: Infinity });
    await expect(call).resolves.toBe('slept');
  });
});
