/**
 * One behaviour suite for every mode: what users rely on must not depend on where the worker runs.
 * Modes that run in another thread/process are added to MODES as their transports land.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  CancelledError,
  ConfigError,
  Future,
  TimeoutError,
  WorkerInitError,
  WorkerStoppedError,
  gather,
  type Mode,
} from '../src/index.js';
import { Broken, Counter, Overlapping } from './fixtures/workers.js';

export const MODES: Mode[] = ['sync', 'async', 'thread', 'process'];

const handles: { stop(): Promise<void> }[] = [];
function track<T extends { stop(): Promise<void> }>(h: T): T {
  handles.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

describe.each(MODES)('Worker in %s mode', (mode) => {
  it('returns results and keeps state per worker, isolated between workers', async () => {
    const a = track(Counter.options({ mode }).init(10));
    const b = track(Counter.options({ mode }).init());
    expect(await a.increment()).toBe(11);
    expect(await a.increment(5)).toBe(16);
    expect(await b.increment()).toBe(1);
    expect(await a.value()).toBe(16);
    expect(await b.value()).toBe(1);
  });

  it('runs calls in submission order, one at a time', async () => {
    const w = track(Counter.options({ mode }).init());
    const first = w.slowAppend('a', 30);
    const second = w.append('b');
    const third = w.slowAppend('c', 1);
    expect(await third).toEqual(['a', 'b', 'c']);
    expect(await first).toEqual(['a']);
    expect(await second).toEqual(['a', 'b']);
  });

  it('overlaps async methods up to maxConcurrency', async () => {
    const strict = track(Overlapping.options({ mode }).init());
    await gather([strict.task(20), strict.task(20), strict.task(20)]);
    expect(await strict.peak()).toBe(1);
    const overlapping = track(Overlapping.options({ mode, maxConcurrency: 3 }).init());
    await gather([overlapping.task(30), overlapping.task(30), overlapping.task(30), overlapping.task(30)]);
    expect(await overlapping.peak()).toBe(3);
  });

  it('rejects with the error the method threw, keeping class, message and own properties', async () => {
    const w = track(Counter.options({ mode }).init());
    const err = await w.fail('upstream down').exception();
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('HttpError');
    expect((err as Error).message).toBe('upstream down');
    expect((err as any).status).toBe(503);
    expect((err as any).code).toBe('E_HTTP');
    await expect(w.failAsync('out of range')).rejects.toThrow(RangeError);
    await expect(w.failAsync('out of range')).rejects.toThrow('out of range');
    // the worker goes on serving calls after a failure
    expect(await w.increment()).toBe(1);
  });

  it('passes varargs, structured values and undefined through', async () => {
    const w = track(Counter.options({ mode }).init());
    expect(await w.sum(1, 2, 3, 4)).toBe(10);
    const value = { a: [1, 2, { b: 'c' }], d: new Map([['k', 1]]), e: new Set([1]), f: new Date(0) };
    expect(await w.echo(value)).toEqual(value);
    expect(await w.echo(undefined)).toBeUndefined();
  });

  it('result({ timeout }) rejects with TimeoutError while the call goes on', async () => {
    const w = track(Counter.options({ mode }).init());
    const f = w.sleep(200);
    await expect(f.result({ timeout: 10 })).rejects.toBeInstanceOf(TimeoutError);
    expect(f.done).toBe(false);
    expect(await f.result({ timeout: 10_000 })).toBe('slept');
    expect(f.done).toBe(true);
  });

  it('exception() gives the error or undefined', async () => {
    const w = track(Counter.options({ mode }).init());
    expect(await w.increment().exception()).toBeUndefined();
    expect(await w.fail('x').exception()).toMatchObject({ message: 'x' });
  });

  it('stop() cancels queued and running calls; later calls throw WorkerStoppedError; stop is idempotent', async () => {
    const w = Counter.options({ mode }).init();
    const running = w.sleepUntilAborted();
    const queued = w.increment();
    const stopping = w.stop({ timeout: 50 });
    expect(w.stop()).toBe(stopping);
    await stopping;
    await expect(queued).rejects.toBeInstanceOf(CancelledError);
    const outcome = await running.then(
      (v) => v,
      (e) => e,
    );
    // a running call either saw its signal abort or was cancelled by the stop
    expect(outcome === 'aborted' || outcome instanceof CancelledError).toBe(true);
    expect(() => w.increment()).toThrow(WorkerStoppedError);
    expect(() => w.increment()).toThrow('Worker is stopped');
    await w.stop();
  });

  it('await using stops the worker on scope exit, also when the scope throws', async () => {
    let escaped: { increment(): unknown } | undefined;
    await expect(
      (async () => {
        await using w = Counter.options({ mode }).init();
        escaped = w;
        await w.increment();
        throw new Error('scope failed');
      })(),
    ).rejects.toThrow('scope failed');
    expect(() => escaped!.increment()).toThrow(WorkerStoppedError);
  });

  it('surfaces constructor errors as WorkerInitError from ready() and from every call', async () => {
    const w = track(Broken.options({ mode }).init('no config'));
    const err = await w.ready().catch((e) => e);
    expect(err).toBeInstanceOf(WorkerInitError);
    expect(err.cause).toBeInstanceOf(TypeError);
    expect(err.cause.message).toBe('cannot build: no config');
    await expect(w.work()).rejects.toBeInstanceOf(WorkerInitError);
  });

  it('awaits futures in arguments, also nested in arrays, objects, Maps and Sets', async () => {
    const source = track(Counter.options({ mode }).init(41));
    const w = track(Counter.options({ mode }).init());
    const f = source.increment();
    expect(await w.echo(f)).toBe(42);
    expect(await w.echo([f, { nested: f }])).toEqual([42, { nested: 42 }]);
    const m = (await w.echo(new Map([['k', f]]))) as Map<string, number>;
    expect(m.get('k')).toBe(42);
    const s = (await w.echo(new Set([f]))) as Set<number>;
    expect([...s]).toEqual([42]);
    expect(await w.sum(f, Promise.resolve(8))).toBe(50);
  });

  it('fails a call whose input future failed, and keeps call order around it', async () => {
    const source = track(Counter.options({ mode }).init());
    const w = track(Counter.options({ mode }).init());
    const bad = source.fail('input broke');
    const late = new Promise((r) => setTimeout(() => r('late'), 20));
    const first = w.append(late as Promise<string>);
    const second = w.append('now');
    const third = w.echo(bad);
    expect(await second).toEqual(['late', 'now']);
    expect(await first).toEqual(['late']);
    await expect(third).rejects.toMatchObject({ message: 'input broke' });
  });

  it('gives methods this.limits and this.context', async () => {
    const w = track(Counter.options({ mode }).init());
    expect(await w.hasLimits()).toBe(true);
    expect(await w.attemptInfo(1, 'two')).toEqual({ method: 'attemptInfo', attempt: 1, args: [1, 'two'] });
  });

  it('cancel() drops a queued call and aborts a running one', async () => {
    const w = track(Counter.options({ mode }).init());
    const running = w.sleepUntilAborted();
    const queued = w.increment();
    expect(queued.cancel()).toBe(true);
    expect(queued.cancelled).toBe(true);
    await expect(queued).rejects.toBeInstanceOf(CancelledError);
    expect(running.cancel()).toBe(true);
    await expect(running).rejects.toBeInstanceOf(CancelledError);
    expect(await w.value()).toBe(0);
  });

  it('a failed future nobody awaits does not become an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const w = track(Counter.options({ mode }).init());
      w.fail('ignored');
      await w.value();
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('gives a clear error for a method the class does not have', async () => {
    const w = track(Counter.options({ mode }).init()) as any;
    expect(() => w.nope()).toThrow(TypeError);
    expect(() => w.nope()).toThrow(/nope is not a function/);
    // A handle answers only its methods and controls (docs/workers.md "What a handle answers").
    expect(w.nope).toBeUndefined();
  });

  it('rejects bad options at options() with ConfigError naming option, value and what is allowed', () => {
    expect(() => Counter.options({} as any)).toThrow(ConfigError);
    expect(() => Counter.options({} as any)).toThrow(/mode/);
    expect(() => Counter.options({ mode: 'threads' as any })).toThrow(
      /Invalid option 'mode': got "threads"; expected one of 'sync', 'async', 'thread', 'process'/,
    );
    expect(() => Counter.options({ mode, maxConcurency: 2 } as any)).toThrow(/Unknown option 'maxConcurency' — did you mean 'maxConcurrency'\?/);
    expect(() => Counter.options({ mode, maxConcurrency: 0 })).toThrow(/'maxConcurrency': got 0; expected an integer >= 1/);
    expect(() => Counter.options({ mode, unwrapFutures: 'yes' as any })).toThrow(/'unwrapFutures': got "yes"; expected true or false/);
    expect(() => Counter.options({ mode, stopTimeout: -1 })).toThrow(ConfigError);
    expect(new ConfigError('x')).toBeInstanceOf(TypeError);
  });

  it('futures are awaitable, inspectable and composable', async () => {
    const w = track(Counter.options({ mode }).init());
    const f = w.increment();
    expect(f).toBeInstanceOf(Future);
    expect(await f.then((v) => v * 2)).toBe(2);
    expect(f.done).toBe(true);
    expect(f.cancel()).toBe(false);
  });
});
