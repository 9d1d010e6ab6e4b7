/**
 * The worker side of thread and process modes: receives the init message, finds and constructs
 * the user's class in a WorkerRuntime, runs batched calls, and sends results, events and limit
 * requests back. Started by workers/bootstrap.mjs.
 */
import { CancelledError, WorkerInitError } from '../../errors.js';
import { WorkerRuntime, type BatchSink, type RuntimeOptions } from '../../runtime/runtime.js';
import type { Settler } from '../transport.js';
import { decodeOptions } from '../../serialize/options.js';
import { encodeError, decodeError, describeThrown } from '../../serialize/errors.js';
import { mayTransferOne, prepareTransfer } from '../../serialize/outgoing.js';
import type { RetryBudgetClient } from '../../retry/budget.js';
import { WorkerLimitsClient } from './worker-limits.js';
import { locateFailureMessage, type LocateAttempt } from './worker-messages.js';
import type { LimitsLike } from '../../limits/limits-like.js';
import { attachThreadLimits } from '../../limits/thread-sharing.js';
import { IdleSpin, WORKER_SPIN, type SpinGate } from './idle-spin.js';
export { workerThreadPort } from './thread-port.js';
import { markerWriter, type StartedMarkerWriter } from './started-marker.js';
import { MAX_BATCH, WIRE_STRIDE, type FromWorker, type ToWorker, type WireCalls, type WireResults } from './protocol.js';

export interface HostPort {
  /**
   * `transfer`: buffers and ports to move, not copy (a process worker copies them). Must have
   * copied `msg` when it returns, as postMessage and process.send do: the host reuses its arrays.
   */
  post(msg: FromWorker, transfer?: readonly object[]): void;
  onMessage(fn: (msg: ToWorker) => void): void;
  exit(code: number): void;
  /** Thread workers: takes the next queued message synchronously, if there is one (see IdleSpin). */
  poll?(this: void): ToWorker | undefined;
  /** Thread workers: admits this thread's polling when few enough others are polling. */
  spinGate?: SpinGate;
  /** True where post() moves what it is given (threads); elsewhere move() marks are left alone and results copied. */
  transfers?: boolean;
}

function describeUncloneable(value: unknown): string {
  try {
    structuredClone(value);
    return '';
  } catch (e) {
    return describeThrown(e);
  }
}

export function runWorkerHost(port: HostPort): void {
  // A worker that throws outside any call is broken: say why, then exit so the caller replaces it.
  const fatal = (error: unknown) => {
    try {
      port.post({ t: 'fatal', error: encodeError(error) });
    } finally {
      port.exit(1);
    }
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  let runtime: WorkerRuntime | undefined;
  /** Records which calls started, so the caller never re-runs one after this worker dies. */
  let startedMarker: StartedMarkerWriter | undefined;
  /** Calls received so far; a call's sequence number is its position in that stream (see started-marker.ts). */
  let received = 0;
  const seqOfSlot: number[] = [];
  let className = 'Worker';
  let initFailed = false;
  /** Calls that arrived before the instance was constructed. */
  const early: WireCalls = [];
  let methods: string[] = [];
  // Limits the caller serves over the channel; a thread worker of a LimitSet takes what fits itself.
  const remoteLimits = new WorkerLimitsClient((m) => port.post(m));
  let nextBudgetRid = 1;
  const budgetWaiters = new Map<number, (ok: boolean) => void>();
  let budgetStretch = 1;

  let outbox: WireResults = [];
  let outboxMethods: string[] = [];
  let spareOutbox: WireResults | undefined = [];
  let spareOutboxMethods: string[] | undefined = [];
  let flushScheduled = false;
  /** A result that moved buffers went out on its own since the last flush. */
  let movedPosted = false;
  /** Runs as a microtask after the calls of a message ran: sends their results, then maybe polls. */
  const flush = () => {
    flushScheduled = false;
    if (outbox.length === 0 && !movedPosted) return;
    movedPosted = false;
    if (outbox.length > 0) postResults();
    if (spin && runtime && runtime.pending === 0 && !stopping) spin.idle();
  };
  const postResults = () => {
    // Two pairs of arrays taken in turn, not new ones per batch: a fresh array starts with another
    // elements kind, which deoptimized settle at a pool's second batch.
    // (A getter of a result may settle calls while this batch is serialized: they go to the other
    // pair, or to new arrays if that one is out too.)
    const batch = outbox;
    const batchMethods = outboxMethods;
    outbox = spareOutbox ?? [];
    outboxMethods = spareOutboxMethods ?? [];
    spareOutbox = spareOutboxMethods = undefined;
    try {
      port.post({ t: 'results', batch });
    } catch {
      // One result can't be cloned: send them one by one so only that call fails.
      for (let i = 0; i < batch.length; i += WIRE_STRIDE) {
        const result = batch.slice(i, i + WIRE_STRIDE);
        try {
          port.post({ t: 'results', batch: result });
        } catch (error) {
          postUnsendable(result[0] as number, batchMethods[i / WIRE_STRIDE], describeUncloneable(result[2]) || describeThrown(error));
        }
      }
    }
    batch.length = batchMethods.length = 0;
    spareOutbox = batch;
    spareOutboxMethods = batchMethods;
  };
  const postUnsendable = (id: number, method: string, reason: string) => {
    const failure = encodeError(new TypeError(`The result of ${className}.${method} cannot be sent back from the worker: ${reason}`));
    port.post({ t: 'results', batch: [id, false, failure] });
  };
  /** A result with buffers marked by move(): sent at once and alone, so a failed transfer fails only its call. */
  const postMoving = (id: number, method: string, value: unknown, transfer: object[]) => {
    if (outbox.length > 0) postResults();
    try {
      port.post({ t: 'results', batch: [id, true, value] }, transfer);
    } catch (error) {
      postUnsendable(id, method, describeThrown(error));
    }
    movedPosted = true;
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flush);
    }
  };
  const settle = (id: number, method: string, ok: boolean, value: unknown) => {
    // Thread workers only: buffers marked with move() go, and big ones are copied here and moved.
    if (ok && port.transfers && mayTransferOne(value)) {
      let outgoing;
      try {
        outgoing = prepareTransfer([value], () => `The result of ${className}.${method}`);
      } catch (error) {
        ok = false;
        value = error;
      }
      if (outgoing) return postMoving(id, method, outgoing.values[0], outgoing.transfer);
    }
    outbox.push(id, ok, ok ? value : encodeError(value));
    outboxMethods.push(method);
    if (outbox.length >= MAX_BATCH * WIRE_STRIDE) postResults();
    else if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flush);
    }
  };
  /** One small object per call (no closures): calls are the hot path. */
  class CallSettler implements Settler {
    constructor(
      readonly id: number,
      readonly method: string,
    ) {}
    resolve(v: unknown) {
      settle(this.id, this.method, true, v);
    }
    reject(e: unknown) {
      settle(this.id, this.method, false, e);
    }
  }
  const settlerFor = (id: number, method = 'the call') => new CallSettler(id, method);
  const sink: BatchSink = { settled: settle, settlerFor };
  /** True while the calls of a message are being submitted (sync methods run right there). */
  let inRun = false;
  const onStart = (slot: number) => {
    // A call that starts when an async one finished: the results so far go out first, so a call
    // that then kills the worker (a busy loop ended by a timeout, a SIGKILL) cannot take them along.
    // Calls started while a message's calls are submitted keep batching.
    if (!inRun && outbox.length > 0) postResults();
    startedMarker!.starting(seqOfSlot[slot], received);
  };
  // process.exit() in a method, or an uncaught exception: the results of the calls that finished
  // before it are still in the outbox, and the marker may be ahead of the calls that started.
  process.on('exit', () => {
    startedMarker?.exact();
    try {
      postResults();
    } catch {
      /* going down anyway: those calls fail as crashed, and are not run again */
    }
  });

  const run = (batch: WireCalls) => {
    // No instance: the caller ends this worker and hands its calls to another one.
    if (!runtime) return;
    inRun = true;
    try {
      runtime.runBatch(batch, methods, sink);
    } finally {
      inRun = false;
    }
  };

  let stopping = false;
  const onMessage = async (msg: ToWorker) => {
    switch (msg.t) {
      case 'init': {
        startedMarker = markerWriter(msg.started);
        remoteLimits.config = msg.limitsConfig ?? {};
        const limits: LimitsLike = msg.sharedLimits
          ? attachThreadLimits(msg.sharedLimits, (set) => ({
              acquire: (requested, options) => remoteLimits.acquire(requested, options, set),
              released: () => port.post({ t: 'limits', rid: 0, op: 'pump', set }),
            }))
          : remoteLimits;
        methods = msg.methods;
        try {
          const workerClass = await locateClass(msg.moduleCandidates, msg.exportName);
          const budget: RetryBudgetClient | undefined = msg.hasBudget
            ? {
                recordCall: () => port.post({ t: 'budget', rid: 0, op: 'record' }),
                tryRetry: (retry?: number) =>
                  new Promise<boolean>((resolve) => {
                    const rid = nextBudgetRid++;
                    budgetWaiters.set(rid, resolve);
                    port.post({ t: 'budget', rid, op: 'try', retry });
                  }),
                // The stretch of the last answer: the engine reads it before asking, so it is one retry behind.
                stretch: () => budgetStretch,
              }
            : undefined;
          // Inline: an idle worker starts a call as its message arrives, one hop fewer than a microtask.
          const options = { ...decodeOptions<RuntimeOptions>(msg.runtimeOptions), inline: true };
          runtime = new WorkerRuntime(workerClass, msg.ctorArgs, options, {
            emit: (event) => port.post({ t: 'event', event }),
            limits,
            budget,
            onStart,
          });
          className = runtime.className;
          port.post({ t: 'ready' });
        } catch (error) {
          initFailed = true;
          const initError = error instanceof WorkerInitError ? error : new WorkerInitError(`Worker could not start: ${(error as Error)?.message ?? error}`, { cause: error });
          port.post({ t: 'init-error', error: encodeError(initError) });
        }
        run(early.splice(0));
        break;
      }
      case 'calls':
        for (let i = 0; i < msg.batch.length; i += WIRE_STRIDE) {
          seqOfSlot[msg.batch[i] as number] = received;
          received++;
        }
        if (!runtime && !initFailed) for (const item of msg.batch) early.push(item);
        else run(msg.batch);
        break;
      case 'cancel': {
        let i = 0;
        while (i < early.length && early[i] !== msg.id) i += WIRE_STRIDE;
        if (i < early.length) {
          early.splice(i, WIRE_STRIDE);
          settlerFor(msg.id).reject(new CancelledError('Call was cancelled'));
        } else if (runtime?.cancel(msg.id)) {
          settlerFor(msg.id).reject(new CancelledError('Call was cancelled'));
        }
        break;
      }
      case 'limits-reply':
        remoteLimits.settle(msg.rid, msg.ok, msg.ok ? msg.value : decodeError(msg.value));
        break;
      case 'budget-reply': {
        const w = budgetWaiters.get(msg.rid);
        budgetWaiters.delete(msg.rid);
        if (msg.stretch !== undefined) budgetStretch = msg.stretch;
        w?.(msg.ok);
        break;
      }
      case 'stop':
        stopping = true;
        await runtime?.shutdown(msg.timeout);
        flush();
        port.post({ t: 'stopped' });
        break;
    }
  };
  const spin = port.poll ? new IdleSpin(port.poll, (msg) => void onMessage(msg), WORKER_SPIN, port.spinGate) : undefined;
  port.onMessage((msg) => {
    spin?.arrived();
    void onMessage(msg);
  });
}

type WorkerClass = new (...args: unknown[]) => object;
const LOCATING = Symbol.for('concurry.locating');

/** Imports the candidate modules in order and returns the first export that is the named class. */
async function locateClass(candidates: string[], exportName: string): Promise<WorkerClass> {
  // Read by the worker() decorator: a class defined while we import its module is not a new handle.
  const flags = globalThis as Record<symbol, unknown>;
  flags[LOCATING] = true;
  const attempts: LocateAttempt[] = [];
  try {
    for (const url of candidates) {
      let mod: Record<string, unknown>;
      try {
        mod = (await import(url)) as Record<string, unknown>;
      } catch (error) {
        attempts.push({ url, error });
        continue;
      }
      const direct = mod[exportName];
      if (typeof direct === 'function') return direct as WorkerClass;
      for (const value of Object.values(mod)) {
        if (typeof value === 'function' && value.name === exportName) return value as WorkerClass;
      }
      attempts.push({ url });
    }
  } finally {
    flags[LOCATING] = false;
  }
  throw new WorkerInitError(locateFailureMessage(exportName, attempts));
}
