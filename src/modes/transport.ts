/**
 * The seam between a worker handle (caller side) and wherever the instance really lives.
 *
 * One call path serves every mode: the handle validates, unwraps futures, and hands each call to a
 * Transport. The `sync` and `async` transports host a {@link WorkerRuntime} in this thread; the
 * `thread` and `process` transports host one in a worker thread / child process and speak a small
 * message protocol to it. The runtime (ordering, concurrency, retries, limits) is the same code in
 * every mode; only the transport differs.
 */
import type { RuntimeEvent } from '../observability/events.js';
import type { RuntimeOptions } from '../runtime/runtime.js';
import type { LimitsLike } from '../limits/index.js';
import type { LimitsOption } from '../limits/option.js';
import type { CoreOptions } from '../config/options.js';
import type { Clock, RandomSource } from '../clock.js';
import type { RetryBudgetClient } from '../retry/index.js';
import type { Settler } from '../util/settler.js';

export type { Settler };

/**
 * Thread mode's `resourceLimits` option: Node's per-thread heap and stack caps, in MB (the fields
 * of `worker_threads`' ResourceLimits that a worker may set).
 */
export interface ResourceLimitsOption {
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  codeRangeSizeMb?: number;
  stackSizeMb?: number;
}

/**
 * The resolved worker options a transport reads. A mode whose options only it reads adds them to
 * this interface by declaration merging (the distributed mode's `connection`, `prefix`, `delivery`),
 * so they are typed wherever the options travel.
 */
export interface TransportOptions extends CoreOptions {
  /** Limits the worker's methods draw on through `this.limits` (Limit objects, a LimitSet, a LimitPool, LimitSets or an AdaptiveLimit). */
  limits?: LimitsOption;
  /**
   * Thread mode: Node's per-thread heap and stack caps, in MB. A thread that runs out of memory
   * dies like any crash: its calls fail with WorkerCrashedError and a pool replaces it.
   */
  resourceLimits?: ResourceLimitsOption;
}

/** A class a transport can construct: any constructor returning an object. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a worker class's constructor parameters are its own (contravariant): only `any[]` accepts every class
export type WorkerClassLike = new (...args: any[]) => object;

/** Everything a transport needs to build the instance. */
export interface TransportInit {
  /** The worker class (in-process modes use it directly). */
  workerClass: WorkerClassLike;
  /** Where another thread/process can import the class from, when known. */
  moduleRef?: { url: string; exportName: string };
  ctorArgs: unknown[];
  runtimeOptions: RuntimeOptions;
  /** Receives events raised inside the runtime (retries, validation failures, …). */
  onEvent: (event: RuntimeEvent) => void;
  /** Called once if the thread/process dies unexpectedly (after its pending calls were rejected). */
  onCrash?: (error: Error) => void;
  /** Limits this worker draws on; remote modes serve them to the worker over their channel. */
  limits: LimitsLike;
  /** Index of this worker in its pool (0 for a single worker). */
  workerIndex: number;
  /** In-process modes only: injected time and randomness (tests). */
  clock?: Clock;
  random?: RandomSource;
  /** All resolved worker options (thread/process modes read `module`, etc.). */
  options: Readonly<TransportOptions>;
  /** Retry budget shared by the handle's workers. */
  budget?: RetryBudgetClient;
}

/**
 * One call handed to a transport. Transports find a call's bookkeeping through fields they own on
 * the call itself (a pool's entry, a channel slot) instead of a lookup table: at a million calls a
 * second, hashing per call costs more than the rest of the dispatch.
 */
export interface TransportCall {
  id: number;
  method: string;
  args: unknown[];
  /** @internal owned by the pool carrying this call. */
  poolEntry?: unknown;
  /** @internal owned by the thread/process transport carrying this call: its slot in the wire table. */
  wireSlot?: number;
}

/** Builds the transport of one worker instance. */
export type TransportFactory = (init: TransportInit) => Transport;

export interface Transport {
  /** Resolves when the instance is constructed; rejects with WorkerInitError when the ctor threw. */
  ready(): Promise<void>;
  /**
   * Runs one call and settles `settler` with its outcome. Calls reach the runtime in the order
   * `send` is invoked (the transport may batch them).
   */
  send(call: TransportCall, settler: Settler): void;
  /** Drops a queued call (its settler is never called; returns true) or aborts a running one's signal (returns false). */
  cancel(call: TransportCall): boolean;
  /** Number of calls sent and not yet settled. */
  readonly inFlight: number;
  /** Whether `call` was sent and has not settled yet (thread/process modes and pools). */
  isInFlight?(call: TransportCall): boolean;
  /**
   * Kills the thread/process running `call` because it ignored its abort (after a timeout).
   * The worker's other calls fail as in a crash; a pool replaces the worker.
   */
  terminate?(call: TransportCall, reason: string): void;
  /**
   * Pools only: sends a copy of a call (a hedge) to a worker other than those running `avoid`,
   * if one has a free slot now. False when there is none (nothing is sent).
   */
  sendElsewhere?(call: TransportCall, settler: Settler, avoid: readonly TransportCall[]): boolean;
  /**
   * Stops the instance: waits up to `timeoutMs` for running calls, then tears down (terminating a
   * thread/process). Calls still unsettled afterwards are rejected by the handle.
   */
  stop(timeoutMs: number): Promise<void>;
}
