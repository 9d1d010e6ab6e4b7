import { describe, expect, it } from 'vitest';
import { COPY_THEN_MOVE_MIN_BYTES, copyLargeBuffers } from '../../src/serialize/large-copies.js';
import { mayTransfer, prepareTransfer } from '../../src/serialize/outgoing.js';
import { move } from '../../src/serialize/transfer.js';

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

describe('prepareTransfer (what a thread call or result sends)', () => {
  it('sends plain values as they are, and moves nothing', () => {
    expect(prepareTransfer([1, 'a', { b: 2 }], () => 'x')).toBeUndefined();
  });

  it('moves what move() marked and copies the big ones, marked buffers first in the list', () => {
    const marked = move(new Uint8Array(16));
    const big = new Uint8Array(COPY_THEN_MOVE_MIN_BYTES);
    expect(mayTransfer([big])).toBe(true);
    const out = prepareTransfer([marked, big], (i) => `arg ${i}`)!;
    expect(out.values[0]).toBe(marked);
    expect(out.values[1]).not.toBe(big);
    expect(out.transfer).toEqual([marked.buffer, (out.values[1] as Uint8Array).buffer]);
    expect(out.transfer[0]).toBe(marked.buffer);
  });

  it('names the culprit when a buffer is moved twice', () => {
    const a = move(new Uint8Array(16));
    expect(() => prepareTransfer([a, move(a)], (i) => `Argument ${i + 1}`)).toThrow(/Argument 2 cannot be moved: its buffer is moved twice/);
  });
});
