/**
 * Which calls a thread/process worker had started when it died.
 *
 * Calls reach a worker in send order and start in that order (the runtime's queue is FIFO), so one
 * number says it all: the marker M, "calls with sequence number below M may have started; the
 * others provably never did". The worker raises M before a call's method first runs, somewhere
 * that outlives it, and the caller reads it after the death: a pool re-sends the calls at or above
 * M and fails (or retries, within the method's numRetries) the ones below that did not settle.
 *
 * - Thread workers: one Int32 in shared memory, one `Atomics.store` per call. Exact.
 * - Process workers: there is no shared memory between processes, so the marker is the first four
 *   bytes of an unlinked temporary file both processes hold open, written with `pwrite`. A write
 *   costs more than a whole short call (docs/decisions/ipc-started-marker.md), so the worker writes
 *   ahead: when calls are short it marks several at once (at most {@link MAX_AHEAD}, about
 *   {@link AHEAD_BUDGET_US} µs of calls at their pace), when they are slow or sparse, one at a time. On `process.exit()`
 *   and uncaught exceptions the exact value is written on the way out; only a SIGKILL in a flood of
 *   sub-100 µs calls leaves the write-ahead in place, and then at most MAX_AHEAD − 1 calls that never
 *   ran count as started.
 *
 * The marker is an Int32 and wraps; comparisons are modular, which holds while fewer than 2^31
 * calls are in flight on one worker.
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the worker needs to raise the marker (travels in the init message). */
export type StartedMarkerInit = { kind: 'shared'; buffer: SharedArrayBuffer } | { kind: 'file'; fd: number };

/** The caller's end: read once the worker has exited. */
export interface StartedMarkerReader {
  readonly init: StartedMarkerInit;
  /** The marker now: calls with `isStarted(seq, read())` may have started. */
  read(): number;
  close(): void;
}

/** The worker's end. */
export interface StartedMarkerWriter {
  /** Call number `seq` is about to start; `received` calls have arrived so far. */
  starting(seq: number, received: number): void;
  /** Writes the exact marker (on the way out: `process.exit()`, an uncaught exception). */
  exact(): void;
}

/** Whether a call with sequence number `seq` may have started under marker `marker` (modular). */
export function mayHaveStarted(seq: number, marker: number): boolean {
  return ((seq - marker) | 0) < 0;
}

/** Calls marked at once at most, when a process worker's calls are short. */
export const MAX_AHEAD = 64;
/** A process worker marks about this much work per write, µs (docs/decisions/ipc-started-marker.md). */
export const AHEAD_BUDGET_US = 100;

/** Thread workers: the marker lives in shared memory. */
export function sharedMarker(): StartedMarkerReader {
  const buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const cell = new Int32Array(buffer);
  return { init: { kind: 'shared', buffer }, read: () => Atomics.load(cell, 0), close() {} };
}

/**
 * Process workers: the marker is an unlinked temporary file, inherited by the child as `fd` (the
 * caller passes `reader.fd` in the child's stdio at that index). Unlinked at once, so a SIGKILLed
 * parent leaves no file behind.
 */
export function fileMarker(childFd: number): StartedMarkerReader & { fd: number } {
  const path = join(tmpdir(), `concurry-started-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(path, 'w+', 0o600);
  try {
    unlinkSync(path);
  } catch {
    /* Windows keeps an open file; it goes with the tmp dir */
  }
  writeSync(fd, new Uint8Array(4), 0, 4, 0);
  const cell = new Int32Array(1);
  const bytes = new Uint8Array(cell.buffer);
  let closed = false;
  return {
    fd,
    init: { kind: 'file', fd: childFd },
    read() {
      if (closed) return 0;
      readSync(fd, bytes, 0, 4, 0);
      return cell[0];
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** The worker's end of either marker. */
export function markerWriter(init: StartedMarkerInit): StartedMarkerWriter {
  if (init.kind === 'shared') {
    const cell = new Int32Array(init.buffer);
    return {
      starting(seq) {
        Atomics.store(cell, 0, (seq + 1) | 0);
      },
      exact() {},
    };
  }
  const cell = new Int32Array(1);
  const bytes = new Uint8Array(cell.buffer);
  let written = 0;
  let last = 0;
  let startedAny = false;
  let writtenAt = 0;
  let writtenForSeq = 0;
  const write = (marker: number) => {
    cell[0] = marker;
    writeSync(init.fd, bytes, 0, 4, 0);
    written = marker;
  };
  return {
    starting(seq, received) {
      last = seq;
      startedAny = true;
      if (mayHaveStarted(seq, written)) return; // marked ahead already
      const now = performance.now();
      const perCallUs = ((now - writtenAt) * 1000) / Math.max(1, seq - writtenForSeq);
      const ahead = Math.max(1, Math.min(MAX_AHEAD, Math.ceil(AHEAD_BUDGET_US / perCallUs), received - seq));
      writtenAt = now;
      writtenForSeq = seq;
      write((seq + ahead) | 0);
    },
    exact() {
      if (startedAny && written !== ((last + 1) | 0)) write((last + 1) | 0);
    },
  };
}
