import { describe, expect, it } from 'vitest';
import { COPY_THEN_MOVE_MIN_BYTES, copyLargeBuffers } from '../../src/serialize/large-copies.js';

describe('copyLargeBuffers', () => {
  const big = () => new Uint8Array(COPY_THEN_MOVE_MIN_BYTES).fill(3);

  it('leaves calls without big buffers alone (nothing to move)', () => {
    const small = new Float64Array(8);
    expect(copyLargeBuffers([1, 'a', { x: big() }, [big()], small, null, undefined], undefined)).toBeUndefined();
    expect(copyLargeBuffers([new Uint8Array(new SharedArrayBuffer(COPY_THEN_MOVE_MIN_BYTES))], undefined)).toBeUndefined();
  });

  it('replaces each big buffer given directly by a view on a copy, one copy per buffer, and moves the copies after the marked ones', () => {
    const a = big();
    const twin = new Int16Array(a.buffer, 2, 3);
    const marked = new ArrayBuffer(8);
    const values = [a, 7, twin, a.buffer];
    const out = copyLargeBuffers(values, [marked])!;
    expect(values).toEqual([a, 7, twin, a.buffer]); // the caller's array is not touched
    const [copyA, seven, copyTwin, copyBuffer] = out.values as [Uint8Array, number, Int16Array, ArrayBuffer];
    expect(seven).toBe(7);
    expect(copyA.buffer).not.toBe(a.buffer);
    expect(copyTwin.buffer).toBe(copyA.buffer);
    expect(copyBuffer).toBe(copyA.buffer);
    expect([copyTwin.byteOffset, copyTwin.length, copyA[0]]).toEqual([2, 3, 3]);
    expect(out.transfer).toEqual([marked, copyA.buffer]);
    expect(out.transfer[1]).toBe(copyA.buffer);
  });

  it('skips a buffer the caller marked to move', () => {
    const a = big();
    expect(copyLargeBuffers([a], [a.buffer])).toBeUndefined();
  });

  it('gives a Node Buffer back as a Uint8Array, as structured clone does', () => {
    const out = copyLargeBuffers([Buffer.alloc(COPY_THEN_MOVE_MIN_BYTES, 1)], undefined)!;
    const [copy] = out.values as [Uint8Array];
    expect([Buffer.isBuffer(copy), copy instanceof Uint8Array, copy[0]]).toEqual([false, true, 1]);
  });
});
