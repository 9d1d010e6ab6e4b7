/** Workers and task functions for the transfer tests: they sum, fill and hand back buffers. */
import { Worker, move } from '../../src/index.js';

export class Buffers extends Worker {
  static module = import.meta.url;

  /** The sum of `data`, and how many bytes its buffer still had on arrival. */
  sum(data: Float64Array): { sum: number; byteLength: number } {
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i]!;
    return { sum, byteLength: data.buffer.byteLength };
  }

  /** A buffer of `n` doubles 0, 1, 2…, moved back to the caller when `moved`. */
  make(n: number, moved: boolean): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return moved ? move(out) : out;
  }

  /** Returns `data` doubled, in place, moved back: the caller gets its buffer again without a copy. */
  double(data: Float64Array): Float64Array {
    for (let i = 0; i < data.length; i++) data[i]! *= 2;
    return move(data);
  }

  /** Two results that are the same buffer moved twice: the call fails, the worker goes on. */
  movesTwice(): Float64Array[] {
    const a = new Float64Array(4);
    return [move(a), move(a)];
  }

  /** Writes `value` into the shared array and returns what it read before. */
  writeShared(shared: Int32Array, value: number): number {
    return Atomics.exchange(shared, 0, value);
  }

  /** Lengths of each buffer given (in an object, one level deep). */
  lengths(parts: { a: Uint8Array; b: ArrayBuffer }): number[] {
    return [parts.a.length, parts.b.byteLength];
  }

  /** Posts `text` on the moved port. */
  greet(port: import('node:worker_threads').MessagePort, text: string): void {
    port.postMessage(text);
    port.close();
  }

  isBuffer(value: unknown): boolean {
    return Buffer.isBuffer(value);
  }

  echo<T>(value: T): T {
    return value;
  }

  /** What each value arrived as: its kind, where it sits in its buffer, and which values share a buffer. */
  shapes(...values: (ArrayBuffer | ArrayBufferView)[]): { kind: string; byteOffset: number; byteLength: number; bufferBytes: number; resizable: boolean; sharesWith: number; first: number }[] {
    const buffers = values.map((v) => (v instanceof ArrayBuffer ? v : v.buffer));
    return values.map((v, i) => {
      const buffer = buffers[i]!;
      return {
        kind: v instanceof ArrayBuffer ? 'ArrayBuffer' : (v as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag],
        byteOffset: v instanceof ArrayBuffer ? 0 : v.byteOffset,
        byteLength: v.byteLength,
        bufferBytes: buffer.byteLength,
        resizable: (buffer as { resizable?: boolean }).resizable === true,
        sharesWith: buffers.indexOf(buffer),
        first: new Uint8Array(buffer)[v instanceof ArrayBuffer ? 0 : v.byteOffset] ?? -1,
      };
    });
  }

  private kept?: Uint8Array;

  /** The same big buffer, kept here and returned on every call: a copy goes back each time. */
  keptBytes(n: number): Uint8Array {
    this.kept ??= new Uint8Array(n).fill(9);
    return this.kept;
  }

  /** What the kept buffer holds now: its length and its byte sum. */
  keptState(): { length: number; sum: number } {
    let sum = 0;
    for (const b of this.kept ?? []) sum += b;
    return { length: this.kept?.length ?? 0, sum };
  }
}

/** Task function: the sum of a 1 MB-ish Float64Array, by module reference. */
export function sumTask(data: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  return sum;
}

/** Task function: the bytes back, moved. */
export function bytesBack(n: number): Uint8Array {
  return move(new Uint8Array(n).fill(7));
}
