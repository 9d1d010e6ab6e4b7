/**
 * The message protocol between a caller and a worker thread or child process. One protocol for
 * both: only the channel differs. Calls and results travel in batches (one message per tick, or
 * per {@link MAX_BATCH} calls), flattened so a batch of n calls is one array, not n + 1.
 *
 * A call is known on the wire by its slot: a small integer the caller reuses once the call is
 * settled, so both sides index arrays instead of hashing ids.
 */
import type { RuntimeEvent } from '../../observability/events.js';
import type { ThreadLimitsState } from '../../limits/thread-sharing.js';
import type { StartedMarkerInit } from './started-marker.js';

/** Calls per message: big enough to amortize a message, small enough that the worker starts early. */
export const MAX_BATCH = 512;

/**
 * `slot, method, args` repeated. `method` is an index into the `methods` list of the init
 * message, or the name itself for a method not in that list.
 */
export type WireCalls = unknown[];
/** `slot, ok, value or encoded error` repeated. */
export type WireResults = unknown[];
/** Fields per call in {@link WireCalls} and per result in {@link WireResults}. */
export const WIRE_STRIDE = 3;

export type ToWorker =
  | {
      t: 'init';
      moduleCandidates: string[];
      exportName: string;
      /** The class's public methods; calls name them by index. */
      methods: string[];
      ctorArgs: unknown[];
      runtimeOptions: unknown;
      hasBudget: boolean;
      /** The caller's limit set's `config`, so `this.limits.config` reads the same in every mode. */
      limitsConfig: Record<string, unknown>;
      /** Thread workers of a LimitSet or LimitPool: its shared memory, so the worker acquires without a round trip. */
      sharedLimits?: ThreadLimitsState;
      /** Where the worker records which calls started (see started-marker.ts). */
      started: StartedMarkerInit;
    }
  | { t: 'calls'; batch: WireCalls }
  | { t: 'cancel'; id: number }
  | { t: 'limits-reply'; rid: number; ok: boolean; value: unknown }
  /** `stretch`: an adaptive budget's wait stretch after this answer, for the worker's next retry. */
  | { t: 'budget-reply'; rid: number; ok: boolean; stretch?: number }
  | { t: 'stop'; timeout: number };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'init-error'; error: unknown }
  | { t: 'results'; batch: WireResults }
  | { t: 'event'; event: RuntimeEvent }
  /** `set`: which of the shared sets (a thread's slow path); absent: the handle's limits as a whole. */
  | { t: 'limits'; rid: number; op: 'acquire'; requested: Record<string, number>; timeout?: number; set?: number }
  | { t: 'limits'; rid: number; op: 'abort' }
  | { t: 'limits'; rid: number; op: 'stats' }
  | { t: 'limits'; rid: number; op: 'pump'; set: number }
  | { t: 'limits'; rid: number; op: 'release'; acqId: number; used: Record<string, number>; force: boolean }
  | { t: 'budget'; rid: number; op: 'record' | 'try'; retry?: number }
  | { t: 'fatal'; error: unknown }
  | { t: 'stopped' };

/** What the caller answers to a successful remote acquire. */
export interface LimitsAcquireReply {
  acqId: number;
  amounts: [string, number][];
  config: Record<string, unknown>;
  needsUpdate: string[];
}
