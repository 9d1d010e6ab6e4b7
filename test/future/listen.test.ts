import { describe, expect, it } from 'vitest';
import { Future, gather } from '../../src/index.js';

/** A listener that writes down every outcome with the tag it came with. */
function recorder() {
  const seen: string[] = [];
  return { seen, onValue: (v: unknown, tag: number) => seen.push(`value ${String(v)} #${tag}`), onError: (e: unknown, tag: number) => seen.push(`error ${(e as Error).message} #${tag}`) };
}

describe('Future listeners and their tags', () => {
  it('hands each listener its own tag back, in the order they listened — one object may listen many times', () => {
    const f = new Future<number>();
    const a = recorder();
    const b = recorder();
    f.listen(a, 7);
    f.listen(b); // tag defaults to 0
    f.listen(a, 9);
    expect(a.seen).toEqual([]);
    f.resolve(42);
    expect(a.seen).toEqual(['value 42 #7', 'value 42 #9']);
    expect(b.seen).toEqual(['value 42 #0']);
  });

  it('a single listener gets its tag with an error, and the value stays the value once settled', async () => {
    const f = new Future<number>();
    const a = recorder();
    f.listen(a, 3);
    f.reject(new Error('boom'));
    expect(a.seen).toEqual(['error boom #3']);
    await expect(f.result()).rejects.toThrow('boom');
  });

  it('a listener added after the outcome gets it at once, with its tag', async () => {
    const f = Future.resolved('done');
    const a = recorder();
    f.listen(a, 5);
    expect(a.seen).toEqual(['value done #5']);
    expect(await f).toBe('done');
  });

  it('gather fills every position, also when one future appears twice and settles late', async () => {
    const f = new Future<string>();
    const g = new Future<string>();
    const all = gather([f, g, f, 'plain']);
    g.resolve('g');
    f.resolve('f');
    expect(await all).toEqual(['f', 'g', 'f', 'plain']);
  });
});
