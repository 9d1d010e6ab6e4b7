import { describe, expect, it } from 'vitest';
import { Future, TimeoutError, gather } from '../../src/index.js';

/** A future settled later by the test. */
function later<T>(): Future<T> {
  return new Future<T>();
}

describe('gather', () => {
  it('returns values in input order whatever order they settle in: futures, promises, plain values', async () => {
    const a = later<number>();
    const b = later<number>();
    const pending = gather([a, Promise.resolve('p'), 7, b]);
    b.resolve(2);
    a.resolve(1);
    expect(await pending).toEqual([1, 'p', 7, 2]);
  });

  it('keeps the keys of a record', async () => {
    const x = later<string>();
    const pending = gather({ x, y: Promise.resolve(2), z: 3 });
    x.resolve('one');
    expect(await pending).toEqual({ x: 'one', y: 2, z: 3 });
  });

  it('rejects with the first failure', async () => {
    const a = later<number>();
    const b = later<number>();
    const pending = gather([a, b]);
    b.reject(new RangeError('b failed'));
    a.reject(new Error('a failed later'));
    await expect(pending).rejects.toThrow(RangeError);
    await expect(pending).rejects.toThrow('b failed');
  });

  it('returnExceptions puts each error at its place and still waits for everything', async () => {
    const a = later<number>();
    const pending = gather([Promise.reject(new TypeError('bad')), a, 5], { returnExceptions: true });
    a.resolve(4);
    const out = await pending;
    expect(out[0]).toBeInstanceOf(TypeError);
    expect(out.slice(1)).toEqual([4, 5]);
  });

  it('resolves an empty input at once, and reports progress once per item', async () => {
    expect(await gather([])).toEqual([]);
    const ticks: [number, number][] = [];
    await gather([1, Promise.resolve(2), Future.resolved(3)], { progress: (done, total) => ticks.push([done, total]) });
    expect(ticks).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it('times out with TimeoutError', async () => {
    await expect(gather([later()], { timeout: 5 })).rejects.toBeInstanceOf(TimeoutError);
  });
});
