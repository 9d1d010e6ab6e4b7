/**
 * Copying big buffers to and from a thread worker in one memcpy instead of structured clone's two.
 *
 * postMessage copies an ArrayBuffer twice: the sender serializes it into a growing message buffer,
 * the receiver allocates another and copies it out again. Copying it here (`buffer.slice(0)`) and
 * moving the copy gives the receiver the same bytes with one copy and one allocation; below 64 KB
 * moving costs what it saves (docs/decisions/copy-then-move.md).
 *
 * What the receiver sees is what structured clone gives it: a fresh buffer of the whole
 * ArrayBuffer (a view keeps its offset and length; a Node Buffer arrives as a Uint8Array), two
 * views of one buffer in the same call still share one. The sender's values are untouched. Only
 * values given directly (an argument, a result) are copied this way; buffers inside objects are
 * left to structured clone, so a buffer given both directly and inside another argument arrives as
 * two copies instead of one. Shared, resizable and detached buffers are left to structured clone too.
 */

/** Buffers from this many bytes up are copied by the sender and the copy moved (docs/decisions/copy-then-move.md). */
export const COPY_THEN_MOVE_MIN_BYTES = 64 * 1024;

/** What a call sends in place of `values`, and the copies it moves. */
export interface LargeCopies {
  values: unknown[];
  transfer: object[];
}

/**
 * `values` with each large ArrayBuffer or view given directly replaced by one over a copy made
 * here, and the transfer list: `moved` (buffers the caller marked with `move()`, left as they are)
 * followed by the copies. Undefined when no value qualifies — the common case, without allocating.
 * May throw a RangeError when the copy cannot be allocated.
 */
export function copyLargeBuffers(values: readonly unknown[], moved: readonly object[] | undefined): LargeCopies | undefined {
  let out: unknown[] | undefined;
  let copies: Map<ArrayBuffer, ArrayBuffer> | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const buffer = largeBufferOf(value);
    if (buffer === undefined || moved?.includes(buffer)) continue;
    let copy = copies?.get(buffer);
    if (copy === undefined) {
      copy = buffer.slice(0);
      (copies ??= new Map()).set(buffer, copy);
    }
    const rebased = onCopy(value as ArrayBuffer | ArrayBufferView, copy);
    if (rebased === undefined) continue;
    (out ??= values.slice())[i] = rebased;
  }
  if (out === undefined) return undefined;
  return { values: out, transfer: [...(moved ?? []), ...copies!.values()] };
}

/**
 * Whether `value` is binary data that {@link copyLargeBuffers} might copy: the cheap test a call
 * makes before that (calls are the hot path, and most carry numbers, strings and plain objects).
 */
export function isBinary(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value instanceof ArrayBuffer || ArrayBuffer.isView(value));
}

/** The whole plain ArrayBuffer behind `value` when it is big enough to copy here; undefined otherwise. */
function largeBufferOf(value: unknown): ArrayBuffer | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const buffer = value instanceof ArrayBuffer ? value : ArrayBuffer.isView(value) ? value.buffer : undefined;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < COPY_THEN_MOVE_MIN_BYTES) return undefined;
  // A resizable buffer keeps its maxByteLength through structured clone, not through slice().
  if ((buffer as { resizable?: boolean }).resizable === true) return undefined;
  return buffer;
}

type TypedArrayType = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

/** `value` as structured clone would rebuild it on `copy`: same kind (a Buffer as a Uint8Array), offset and length. */
function onCopy(value: ArrayBuffer | ArrayBufferView, copy: ArrayBuffer): ArrayBuffer | ArrayBufferView | undefined {
  if (value instanceof ArrayBuffer) return copy;
  if (value instanceof DataView) return new DataView(copy, value.byteOffset, value.byteLength);
  // The intrinsic name, also for subclasses (Buffer → 'Uint8Array'), which structured clone drops.
  const name = (value as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag];
  const Type = (globalThis as unknown as Record<string, TypedArrayType | undefined>)[name];
  if (typeof Type !== 'function') return undefined;
  return new Type(copy, value.byteOffset, (value as unknown as { length: number }).length);
}
