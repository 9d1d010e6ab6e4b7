/**
 * `move(value)`: hand a buffer to a thread worker instead of copying it (like piscina's
 * `Piscina.move`). The value itself is returned, only remembered as "to move", so a call's types
 * are unchanged and every mode that cannot move (sync, async, process, distributed) simply copies
 * or passes it as before: a move request degrades to a copy, never an error.
 *
 * The marks live in one registry per thread, kept on `globalThis`: the caller's copy of concurry
 * and the one a worker thread loads (source or build) must see the same marks.
 */
import { MessagePort } from 'node:worker_threads';

/** What `move` accepts: an ArrayBuffer, a typed array or DataView (its whole buffer moves), or a MessagePort. */
export type Movable = ArrayBuffer | ArrayBufferView | MessagePort;

interface MoveRegistry {
  marked: WeakSet<object>;
  /** False until the first `move()` in this thread: calls then skip looking for marks at all. */
  used: boolean;
}

// One registry per thread, shared by every copy of this module loaded in it (the key is global).
const registryHolder = globalThis as { [key: symbol]: MoveRegistry | undefined };
const registry: MoveRegistry = (registryHolder[Symbol.for('concurry.moves')] ??= { marked: new WeakSet(), used: false });

/**
 * Marks `value` to be moved, not copied, by the next thread-mode call that sends it — as an
 * argument (`worker.method(move(buf))`, `taskWorker.submit(fn, move(buf))`, map inputs) or as a
 * method's result (`return move(buf)`). Returns `value` itself.
 *
 * Once the call is sent the sender's buffer is **detached**, as the platform does: its
 * `byteLength` is 0 and reading it throws or yields nothing. Moving a typed array moves its whole
 * underlying buffer. Marks are looked for in the arguments and result and one level inside them
 * (elements of an array, values of a plain object). Moving the same buffer twice in one call, or a
 * buffer already detached, fails that call with a TypeError; the worker goes on.
 *
 * In process and distributed modes the value is copied instead (process mode keeps typed arrays
 * and Buffers intact); in sync and async modes it is passed as is. A SharedArrayBuffer needs no
 * move: thread workers share it as they are.
 *
 * @example
 * ```ts
 * import { move } from 'concurry';
 * const samples = new Float64Array(1 << 20);
 * // const total = await worker.sum(move(samples)).result();  // samples.length is now 0
 * ```
 */
export function move<T extends Movable>(value: T): T {
  if (!(value instanceof ArrayBuffer || value instanceof MessagePort || (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer))) {
    throw new TypeError(`move() takes an ArrayBuffer, a typed array, a DataView or a MessagePort (got ${describe(value)})`);
  }
  registry.used = true;
  registry.marked.add(value);
  return value;
}

/** True once this thread has called `move()`: until then no call pays for looking for marks. */
export function movesUsed(): boolean {
  return registry.used;
}

/**
 * The transfer list of a call's arguments or of a result: what was marked with `move()` in
 * `values` and one level inside them, each mark consumed. Undefined when nothing was marked
 * (the common case, without allocating). Throws a TypeError naming the culprit for a buffer moved
 * twice or already detached.
 */
export function collectMoves(values: readonly unknown[], describeAt: (index: number) => string): object[] | undefined {
  let list: object[] | undefined;
  /** Marks are consumed after the scan, so one value marked and given twice is seen twice. */
  let seen: object[] | undefined;
  const add = (value: unknown, index: number) => {
    if (value === null || typeof value !== 'object' || !registry.marked.has(value)) return;
    (seen ??= []).push(value);
    const target = transferable(value as Movable);
    if (target === undefined) return; // copied instead (see transferable)
    if (target instanceof ArrayBuffer && isDetached(target)) {
      throw new TypeError(`${describeAt(index)} cannot be moved: its ArrayBuffer is detached (moved already?)`);
    }
    list ??= [];
    if (list.includes(target)) throw new TypeError(`${describeAt(index)} cannot be moved: its buffer is moved twice in the same call`);
    list.push(target);
  };
  try {
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === null || typeof value !== 'object') continue;
      add(value, i);
      if (Array.isArray(value)) for (const item of value) add(item, i);
      else if (Object.getPrototypeOf(value) === Object.prototype) for (const key in value) add((value as Record<string, unknown>)[key], i);
    }
  } finally {
    if (seen) for (const value of seen) registry.marked.delete(value);
  }
  return list;
}

/**
 * What goes in the transfer list for a marked `value`; undefined to copy it. A small Node Buffer
 * shares Node's pool with unrelated Buffers (Node copies such a buffer rather than move it): two of
 * them in one call are not "the same buffer moved twice", so a Buffer on part of its
 * ArrayBuffer is left to be copied, which for pool-sized Buffers costs next to nothing.
 */
function transferable(value: Movable): ArrayBuffer | MessagePort | undefined {
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) {
    if (Buffer.isBuffer(value) && value.byteLength !== value.buffer.byteLength) return undefined;
    return value.buffer instanceof ArrayBuffer ? value.buffer : undefined;
  }
  return value instanceof MessagePort ? value : undefined;
}

/** Node 20 has no `ArrayBuffer.prototype.detached`; only an empty-looking buffer needs the costly test. */
function isDetached(buffer: ArrayBuffer): boolean {
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  if (value instanceof SharedArrayBuffer || (ArrayBuffer.isView(value) && value.buffer instanceof SharedArrayBuffer)) {
    return 'shared memory, which thread workers share without moving';
  }
  return (value).constructor?.name ?? 'object';
}
