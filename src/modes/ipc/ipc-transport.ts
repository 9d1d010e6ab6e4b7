/**
 * The caller's side of thread and process workers. Calls are pipelined and coalesced: the sends of
 * one tick go out as one message (or one per {@link MAX_BATCH} calls, so the worker starts while
 * the caller is still submitting), without waiting for replies. The worker's limits and
 * retry budget requests are served here, from the handle's own objects; a worker that dies
 * rejects its pending calls with WorkerCrashedError and gives back what it held.
 */
import { WorkerCrashedError } from '../../errors.js';
import { CallNotStartedError } from '../not-started.js';
import { mayHaveStarted } from './started-marker.js';
import { summarizeError } from '../../observability/events.js';
import { decodeError } from '../../serialize/errors.js';
import { mayTransfer, prepareTransfer } from '../../serialize/outgoing.js';
import { encodeOptions } from '../../serialize/options.js';
import { clearLongTimeout, setLongTimeout } from '../../util/long-timeout.js';
import { sdkClassesLoading } from '../../serialize/sdk-errors.js';
import type { Settler, Transport, TransportCall, TransportInit } from '../transport.js';
import type { Channel, ExitInfo } from './channel.js';
import { LimitsServer } from './limits-server.js';
import { moduleCandidates } from './locate.js';
import { uncloneableInitArgument } from './worker-messages.js';
import { publicMethodNames } from '../../runtime/methods.js';
import { CALLER_SPIN, IdleSpin, callerMaySpin } from './idle-spin.js';
import { MAX_BATCH, WIRE_STRIDE, type FromWorker, type WireCalls } from './protocol.js';

/** Extra time a worker gets after the stop timeout to exit on its own before it is killed. */
const STOP_GRACE_MS = 1000;

export class IpcTransport implements Transport {
  /**
   * Calls in flight by wire slot; a settled call's slot goes to `freeSlots` for reuse. Two parallel
   * arrays and a free list: no hashing and no allocation per call.
   */
  private readonly slotCalls: (TransportCall | undefined)[] = [];
  private readonly slotSettlers: (Settler | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  /**
   * Each posted call's sequence number: its position in the stream of calls the worker receives,
   * which is the order they start in. -1 while the call waits in the outbox. After a crash the
   * worker's started marker says which of them may have run (see started-marker.ts).
   */
  private readonly slotSeq: number[] = [];
  private posted = 0;
  private pending = 0;
  private readonly methodIndex = new Map<string, number>();
  private outbox: WireCalls = [];
  private flushScheduled = false;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: unknown) => void;
  private initError?: unknown;
  private dead?: Error;
  private stopping = false;
  private exited = false;
  private exitWaiters: (() => void)[] = [];
  private referenced = true;
  private starting = true;
  /** Serves the worker's `this.limits` from the handle's limits. */
  private readonly limits: LimitsServer;
  /** What the worker reported before it died of an uncaught exception. */
  private fatalError?: Error;
  /** Thread workers: polls for the reply briefly once the caller has nothing else to run (see IdleSpin). */
  private readonly replySpin?: IdleSpin<FromWorker>;
  private awaitingReply = false;
  /** Thread channels can move buffers (see serialize/transfer.ts); a process channel copies. */
  private readonly movable: boolean;

  constructor(
    private readonly init: TransportInit,
    private readonly channel: Channel,
  ) {
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => {});
    this.movable = channel.kind === 'thread';
    if (channel.poll && callerMaySpin()) this.replySpin = new IdleSpin(channel.poll, (msg) => this.onMessage(msg), CALLER_SPIN);
    channel.onMessage((msg) => {
      this.replySpin?.arrived();
      this.onMessage(msg);
    });
    // Before any path that may kill the channel: its exit handler gives back what the worker held.
    this.limits = new LimitsServer(init.limits, channel.kind === 'thread' ? { workerIndex: init.workerIndex } : undefined, (msg) => channel.post(msg));
    channel.onExit((info) => this.onExit(info));
    let runtimeOptions: unknown;
    try {
      runtimeOptions = encodeOptions(init.runtimeOptions as object);
    } catch (error) {
      this.stopping = true; // init() throws: nothing may be left running, and this is no crash
      channel.kill();
      throw error;
    }
    const methods = publicMethodNames(init.workerClass);
    methods.forEach((name, i) => this.methodIndex.set(name, i));
    try {
      channel.post({
        t: 'init',
        moduleCandidates: moduleCandidates(init.workerClass, init.options.module),
        exportName: init.workerClass.name,
        methods,
        ctorArgs: init.ctorArgs,
        runtimeOptions,
        hasBudget: init.budget !== undefined,
        limitsConfig: { ...(init.limits.config ?? {}) },
        sharedLimits: this.limits.sharedState,
        started: channel.started.init,
      });
    } catch (error) {
      this.stopping = true;
      channel.kill();
      throw uncloneableInitArgument(init.workerClass.name, channel.kind, init.ctorArgs, error) ?? error;
    }
    this.updateRef();
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  get inFlight(): number {
    return this.pending;
  }

  send(call: TransportCall, settler: Settler): void {
    // After an init-error calls are still taken: the worker is on its way out, and they are handed
    // back as never started when it is gone. Only a worker already gone refuses them.
    if (this.dead) return settler.reject(this.dead);
    // Only a thread that called move() looks for marks: calls without moves pay one load. A process
    // can't move: its marks are left alone and the value is copied, never an error.
    // Big buffers are copied here and the copies moved (see large-copies); call.args stays as it
    // is, for a call sent again to another worker.
    let transfer: object[] | undefined;
    let args = call.args;
    if (this.movable && mayTransfer(args)) {
      try {
        const outgoing = prepareTransfer(args, (i) => `Argument ${i + 1} of ${this.init.workerClass.name}.${call.method}`);
        if (outgoing) ({ values: args, transfer } = outgoing);
      } catch (error) {
        return settler.reject(error);
      }
    }
    // Always taken from freeSlots (a new one put there first when it is empty): a fresh pool's first
    // batch only ever makes new slots, and a pop first seen in its second batch would throw away
    // the send path's optimized code.
    if (this.freeSlots.length === 0) this.freeSlots.push(this.slotCalls.length);
    const slot = this.freeSlots.pop()!;
    this.slotCalls[slot] = call;
    this.slotSettlers[slot] = settler;
    this.slotSeq[slot] = -1;
    call.wireSlot = slot;
    this.pending++;
    if (transfer) return this.sendMoving(slot, call, args, transfer);
    const outbox = this.outbox;
    outbox.push(slot, this.methodIndex.get(call.method) ?? call.method, args);
    if (outbox.length >= MAX_BATCH * WIRE_STRIDE) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /**
   * A call that moves buffers goes out at once, on its own, after the calls before it: its buffers
   * are detached when the call returns (as with postMessage), and a failed transfer fails only it.
   */
  private sendMoving(slot: number, call: TransportCall, args: readonly unknown[], transfer: object[]): void {
    this.flush();
    try {
      this.channel.post({ t: 'calls', batch: [slot, this.methodIndex.get(call.method) ?? call.method, args] }, transfer);
      this.numberPosted(slot);
    } catch (error) {
      this.settle(slot, false, new TypeError(`The arguments of ${this.init.workerClass.name}.${call.method} cannot be moved to the worker: ${(error as Error).message}`));
      return;
    }
    this.expectReply();
    if (!this.referenced) this.updateRef();
  }

  isInFlight(call: TransportCall): boolean {
    return this.slotOf(call) >= 0;
  }

  terminate(call: TransportCall, reason: string): void {
    const slot = this.slotOf(call);
    if (slot < 0 || this.exited) return;
    // A call still queued behind others ignored no abort: the worker drops it when it reads the
    // cancel already sent. Only a call that may be running costs its worker.
    const seq = this.slotSeq[slot];
    if (seq < 0 || !mayHaveStarted(seq, this.channel.started.read())) return;
    this.fatalError = new Error(`terminated: ${reason}`);
    this.channel.kill();
  }

  cancel(call: TransportCall): boolean {
    const slot = this.slotOf(call);
    if (slot < 0) return false;
    for (let i = 0; i < this.outbox.length; i += WIRE_STRIDE) {
      if (this.outbox[i] === slot) {
        this.outbox.splice(i, WIRE_STRIDE);
        this.freeSlot(slot);
        this.updateRef();
        return true;
      }
    }
    this.channel.post({ t: 'cancel', id: slot });
    return false;
  }

  /** The wire slot of `call` if it is in flight here, else -1. */
  private slotOf(call: TransportCall): number {
    const slot = call.wireSlot;
    return slot !== undefined && this.slotCalls[slot] === call ? slot : -1;
  }

  private freeSlot(slot: number): void {
    this.slotCalls[slot] = undefined;
    this.slotSettlers[slot] = undefined;
    this.freeSlots.push(slot);
    this.pending--;
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.exited) return;
    this.stopping = true;
    this.flush();
    this.channel.ref();
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    this.channel.post({ t: 'stop', timeout: timeoutMs });
    const killTimer = setLongTimeout(() => this.channel.kill(), timeoutMs + STOP_GRACE_MS);
    await exited;
    clearLongTimeout(killTimer);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.outbox.length === 0) return;
    // The channel is referenced here, once per message, not in send(): a store first made when a
    // batch starts would find send()'s optimized code without feedback for it (see updateRef).
    if (!this.referenced) this.updateRef();
    const batch = this.outbox;
    this.outbox = [];
    try {
      this.channel.post({ t: 'calls', batch });
      for (let i = 0; i < batch.length; i += WIRE_STRIDE) this.numberPosted(batch[i] as number);
    } catch {
      // Something in the batch can't be cloned: send call by call so only the bad one fails.
      for (let i = 0; i < batch.length; i += WIRE_STRIDE) {
        const call = batch.slice(i, i + WIRE_STRIDE);
        try {
          this.channel.post({ t: 'calls', batch: call });
          this.numberPosted(call[0] as number);
        } catch (error) {
          const slot = call[0] as number;
          this.settle(slot, false, uncloneableArgument(this.init.workerClass.name, this.slotCalls[slot]!, error as Error));
        }
      }
    }
    this.expectReply();
  };

  /** After a send: poll for the reply once the caller is idle (see {@link awaitRepliesSoon}). */
  private expectReply(): void {
    // Also while the reply polling warms up and idle() will not poll: it keeps round trips on one
    // vCPU (docs/decisions/ipc-reply-immediate.md).
    // The flag is written every time: a store made only on a turn's first send would lack type
    // feedback in a fresh pool's optimized code and throw it away (see docs/decisions/warm-paths.md).
    const already = this.awaitingReply;
    this.awaitingReply = true;
    if (this.replySpin && !already) awaitRepliesSoon(this);
  }

  private numberPosted(slot: number): void {
    this.slotSeq[slot] = this.posted;
    this.posted++;
  }

  /** Polls for a reply until `notAfter` (performance.now() time); see {@link awaitRepliesSoon}. */
  awaitReply(notAfter: number): void {
    this.awaitingReply = false;
    if (this.pending > 0 && !this.exited) this.replySpin!.idle(notAfter);
  }

  private settle(slot: number, ok: boolean, value: unknown): void {
    const settler = this.slotSettlers[slot];
    if (!settler) return;
    this.freeSlot(slot);
    if (ok) settler.resolve(value);
    else settler.reject(value);
    if (this.pending === 0) this.updateRef();
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.t) {
      case 'results': {
        if (this.initError) break; // none: its calls are handed back
        const batch = msg.batch;
        for (let i = 0; i < batch.length; i += WIRE_STRIDE) {
          const ok = batch[i + 1] as boolean;
          if (ok) {
            this.settle(batch[i] as number, true, batch[i + 2]);
            continue;
          }
          const slot = batch[i] as number;
          const encoded = batch[i + 2];
          // An SDK's error (openai…) whose classes are not loaded here yet: settle once they are, so it keeps instanceof.
          const loading = sdkClassesLoading(encoded);
          if (loading) void loading.then(() => this.settle(slot, false, decodeError(encoded)));
          else this.settle(slot, false, decodeError(encoded));
        }
        break;
      }
      case 'event':
        this.init.onEvent(msg.event);
        break;
      case 'ready':
        this.starting = false;
        this.updateRef();
        this.resolveReady();
        break;
      case 'init-error':
        // No call can have started: the worker goes, and its calls are handed back (a pool starts
        // another worker, or gives up with this error after repeated failures).
        this.initError = decodeError(msg.error);
        this.rejectReady(this.initError);
        this.channel.kill();
        break;
      case 'limits':
        this.limits.serve(msg);
        break;
      case 'budget':
        if (msg.op === 'record') this.init.budget?.recordCall();
        else void Promise.resolve(this.init.budget?.tryRetry(msg.retry) ?? true).then((ok) => this.channel.post({ t: 'budget-reply', rid: msg.rid, ok, stretch: this.init.budget?.stretch?.() }));
        break;
      case 'stopped':
        this.channel.kill();
        break;
      case 'fatal':
        this.fatalError = decodeError(msg.error) as Error;
        break;
    }
  }

  private onExit(info: ExitInfo): void {
    this.exited = true;
    this.starting = false;
    if (this.fatalError) info = { ...info, error: this.fatalError };
    this.limits.workerGone(this.channel.threadId);
    if (this.stopping) {
      this.dead = new WorkerCrashedError(`${this.init.workerClass.name} worker is stopped`);
    } else {
      this.dead = this.initError ? (this.initError as Error) : this.crashError(info);
      this.rejectReady(this.dead);
      const marker = this.channel.started.read();
      const slots = this.slotsInFlight();
      this.outbox = [];
      if (!this.initError) this.init.onEvent({ type: 'crash', workerIndex: this.init.workerIndex, error: summarizeError(this.dead) });
      // First the pool takes this worker out of rotation, then the calls settle: a call handed back
      // must not be sent to this same dead worker again.
      this.init.onCrash?.(this.dead);
      for (const slot of slots) {
        const seq = this.slotSeq[slot];
        const method = this.slotCalls[slot]!.method;
        const where = `${this.init.workerClass.name}.${method}`;
        const error =
          seq >= 0 && !this.initError && mayHaveStarted(seq, marker)
            ? new WorkerCrashedError(`${this.dead.message} while running ${where}`, { cause: info.error })
            : new CallNotStartedError(`${this.dead.message} before ${where} started`, { cause: this.initError ?? info.error });
        this.settle(slot, false, error);
      }
    }
    for (const w of this.exitWaiters.splice(0)) w();
  }

  private crashError(info: ExitInfo): WorkerCrashedError {
    const what = this.channel.kind === 'thread' ? 'Worker thread' : 'Worker process';
    const how = info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
    const reason = info.error ? `: ${info.error.message}` : '';
    return new WorkerCrashedError(`${what} of ${this.init.workerClass.name} ${how}${reason}`, { cause: info.error });
  }

  /** Slots of the calls in flight in send order: posted ones by sequence number, then the outbox's. */
  private slotsInFlight(): number[] {
    const posted: number[] = [];
    for (let slot = 0; slot < this.slotCalls.length; slot++) if (this.slotCalls[slot] && this.slotSeq[slot] >= 0) posted.push(slot);
    posted.sort((a, b) => this.slotSeq[a] - this.slotSeq[b]);
    for (let i = 0; i < this.outbox.length; i += WIRE_STRIDE) posted.push(this.outbox[i] as number);
    return posted;
  }

  /** Idle workers must not keep the caller's process alive. */
  private updateRef(): void {
    // Starting up counts as busy: someone may be awaiting ready().
    const want = this.pending > 0 || this.stopping || this.starting;
    // The flag is written every time and the channel told through one out-of-line call site. Its
    // per-call callers are the settle path (unref when the last call settles) and flush (ref, once
    // per message): code run first when a batch starts would lack type feedback in the optimized
    // code around it and throw that code away (docs/decisions/warm-paths.md).
    const changed = want !== this.referenced;
    this.referenced = want;
    if (changed) setReferenced(this.channel, want);
  }
}

/** Transports that sent calls this turn and may poll for their replies once the turn is over. */
let awaiting: IpcTransport[] = [];

/**
 * Polls for replies once this turn's callbacks and microtasks are done (an immediate), when the
 * caller has nothing else to run. However many workers it waits on, the event loop is held for at
 * most one caller polling budget per turn.
 */
function awaitRepliesSoon(transport: IpcTransport): void {
  if (awaiting.push(transport) === 1) setImmediate(awaitReplies);
}

function awaitReplies(): void {
  const transports = awaiting;
  awaiting = [];
  const notAfter = performance.now() + CALLER_SPIN.maxMs;
  for (const transport of transports) transport.awaitReply(notAfter);
}

function uncloneableArgument(className: string, call: TransportCall, error: Error): TypeError {
  const { method, args } = call;
  for (let i = 0; i < args.length; i++) {
    try {
      structuredClone(args[i]);
    } catch (e) {
      return new TypeError(`Argument ${i + 1} of ${className}.${method} cannot be sent to the worker: ${(e as Error).message}`);
    }
  }
  return new TypeError(`The arguments of ${className}.${method} cannot be sent to the worker: ${error.message}`);
}

/** Refs or unrefs the channel (see updateRef: rarely called, so never inlined into the send path). */
function setReferenced(channel: Channel, referenced: boolean): void {
  if (referenced) channel.ref();
  else channel.unref();
}
