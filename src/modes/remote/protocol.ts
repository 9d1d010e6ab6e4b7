/**
 * The message protocol between a caller and a worker thread or child process. One protocol for
 * both: only the channel differs. Calls and results travel in batches (one message per tick).
 */
import type { RuntimeEvent } from '../../runtime/events.js';

/** [id, method, args] */
export type WireCall = [number, string, unknown[]];
/** [id, ok, value or encoded error] */
export type WireResult = [number, boolean, unknown];

export type ToWorker =
  | {
      t: 'init';
      moduleCandidates: string[];
      exportName: string;
      ctorArgs: unknown[];
      runtimeOptions: unknown;
      hasBudget: boolean;
      /** The caller's limit set's `config`, so `this.limits.config` reads the same in every mode. */
      limitsConfig: Record<string, unknown>;
    }
  | { t: 'calls'; batch: WireCall[] }
  | { t: 'cancel'; id: number }
  | { t: 'limits-reply'; rid: number; ok: boolean; value: unknown }
  | { t: 'budget-reply'; rid: number; ok: boolean }
  | { t: 'stop'; timeout: number };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'init-error'; error: unknown }
  | { t: 'results'; batch: WireResult[] }
  | { t: 'event'; event: RuntimeEvent }
  | { t: 'limits'; rid: number; op: 'acquire'; requested: Record<string, number>; timeout?: number }
  | { t: 'limits'; rid: number; op: 'abort' }
  | { t: 'limits'; rid: number; op: 'release'; acqId: number; used: Record<string, number>; force: boolean }
  | { t: 'budget'; rid: number; op: 'record' | 'try' }
  | { t: 'fatal'; error: unknown }
  | { t: 'stopped' };

/** What the caller answers to a successful remote acquire. */
export interface RemoteAcquireReply {
  acqId: number;
  amounts: [string, number][];
  config: Record<string, unknown>;
  needsUpdate: string[];
}
