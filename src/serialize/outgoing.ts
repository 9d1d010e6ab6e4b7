/**
 * What a thread-mode call or result sends: its values, with big buffers copied once (see
 * large-copies), and the transfer list — buffers marked with `move()`, then those copies. One
 * place for the caller's arguments and the worker's results.
 */
import { copyLargeBuffers, isBinary, type LargeCopies } from './large-copies.js';
import { collectMoves, movesUsed } from './transfer.js';

/**
 * Whether sending `values` may need a transfer list: `move()` was called in this thread, or one of
 * them is binary. The cheap test of every call (no function call for numbers, strings, objects).
 */
export function mayTransfer(values: readonly unknown[]): boolean {
  if (movesUsed()) return true;
  for (let i = 0; i < values.length; i++) if (isBinary(values[i])) return true;
  return false;
}

/** {@link mayTransfer} for one value (a result), without an array per call. */
export function mayTransferOne(value: unknown): boolean {
  return movesUsed() || isBinary(value);
}

/**
 * The values to send and their transfer list; undefined when `values` go as they are. Throws a
 * TypeError for a buffer moved twice or already detached (see collectMoves), a RangeError when a
 * copy cannot be allocated.
 */
export function prepareTransfer(values: readonly unknown[], describeAt: (index: number) => string): LargeCopies | undefined {
  const moved = movesUsed() ? collectMoves(values, describeAt) : undefined;
  return copyLargeBuffers(values, moved) ?? (moved && { values: values as unknown[], transfer: moved });
}
