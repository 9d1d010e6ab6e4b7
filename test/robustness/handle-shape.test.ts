/**
 * Issue 22 item 9: a handle answers only its class's public methods and its controls; every other
 * name reads as undefined, so libraries that duck-type values (promises, streams, iterators,
 * JSON) see a plain object, not something that looks like one of theirs.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { task } from '../../src/index.js';
import { Counter } from '../fixtures/workers.js';

const handles: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

const FOREIGN_NAMES = ['then', 'catch', 'finally', 'pipe', 'next', 'toJSON', 'subscribe', 'nope', 'onData', '_private', 'count', 'log'];

describe.each(['sync', 'thread'] as const)('a %s handle', (mode) => {
  function counter() {
    const w = Counter.options({ mode }).init(1);
    handles.push(w);
    return w as typeof w & Record<string | symbol, unknown>;
  }

  it('answers its methods and controls, and nothing else', async () => {
    const w = counter();
    for (const name of ['increment', 'value', 'echo', 'ready', 'stop', 'on', 'off', 'stats']) expect(typeof w[name]).toBe('function');
    expect(typeof w[Symbol.asyncDispose]).toBe('function');
    expect(w.circuit.state).toBe('closed');
    for (const name of FOREIGN_NAMES) expect(w[name], name).toBeUndefined();
    for (const sym of [Symbol.iterator, Symbol.asyncIterator, Symbol.toPrimitive, Symbol('mine')]) expect(w[sym]).toBeUndefined();
    expect('pipe' in w).toBe(false);
    await expect(w.increment(2)).resolves.toBe(3);
  });

  it('is not mistaken for a promise, a stream, an iterator or a JSON value', async () => {
    const w = counter();
    // is-promise / p-is-promise style checks
    const isPromiseLike = (x: any) => !!x && (typeof x === 'object' || typeof x === 'function') && typeof x.then === 'function';
    expect(isPromiseLike(w)).toBe(false);
    // awaiting (or returning from an async function) gives the handle itself back
    expect(await w).toBe(w);
    expect(await Promise.resolve(w)).toBe(w);
    // is-stream style check, and Node's own
    expect(typeof w.pipe === 'function').toBe(false);
    expect(w instanceof Readable).toBe(false);
    // iterator / observable checks
    expect(typeof w.next === 'function').toBe(false);
    expect(Symbol.asyncIterator in w).toBe(false);
    // JSON.stringify doesn't call a toJSON, and doesn't throw
    expect(() => JSON.stringify(w)).not.toThrow();
    // logging a handle works
    expect(String(w)).toBe('[object Object]');
    expect(`${w}`).toBe('[object Object]');
  });

  it('calling a name the class lacks is refused with a TypeError naming it', () => {
    const w = counter() as any;
    expect(() => w.nope()).toThrow(TypeError);
    expect(() => w.nope()).toThrow(/nope is not a function/);
  });
});

describe('a task() handle', () => {
  it('has no then/pipe/next either', async () => {
    const double = task({ mode: 'sync' })((x: number) => x * 2) as unknown as Record<string, unknown> & { stop(): Promise<void> };
    handles.push(double);
    for (const name of ['then', 'catch', 'pipe', 'next', 'toJSON']) expect(double[name], name).toBeUndefined();
    expect(await (double as any)(21)).toBe(42);
  });
});
