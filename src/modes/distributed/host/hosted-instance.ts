/**
 * One worker instance placed on a host: builds the class in a WorkerRuntime (ordering, retries,
 * limits: the same code as every other mode), runs the numbered call batches of its BullMQ queue in
 * order, and posts every outcome to its caller. It sees the host only through {@link InstanceHost}.
 */
import type { Job, Worker as BullWorker } from 'bullmq';
import { CancelledError, WorkerCrashedError, WorkerInitError } from '../../../errors.js';
import { emptyLimitSet, type LimitsLike } from '../../../limits/index.js';
import type { RetryBudgetClient } from '../../../retry/budget.js';
import { WorkerRuntime, type RuntimeOptions } from '../../../runtime/runtime.js';
import type { Settler } from '../../transport.js';
import type { RuntimeEvent } from '../../../observability/events.js';
import { observeLimitWaits } from '../../../limits/limit-events.js';
import { encodeError } from '../../../serialize/errors.js';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../../../util/long-timeout.js';
import { within } from '../connection.js';
import { HostRefusedError, type WorkerClass } from '../security.js';
import { unpack, type HostMessage, type PlacementData, type PlacementPayload, type WireCall } from '../wire.js';
import { messageOf } from './log.js';

/** What a hosted instance needs from its host, and nothing more. */
export interface InstanceHost {
  readonly id: string;
  /** The class to build for a received name; throws HostRefusedError for one the host does not have. */
  workerClass(name: string): WorkerClass;
  /** Received runtime options, with their functions resolved through the host's code gate. */
  runtimeOptions(encoded: unknown, cls: WorkerClass): RuntimeOptions;
  /** Redis-backed limits for a received description. */
  limits(description: NonNullable<PlacementPayload['limits']>, workerIndex: number): LimitsLike;
  /** The Redis-backed retry budget a caller shares between its instances. */
  budget(budget: NonNullable<PlacementPayload['budget']>): RetryBudgetClient;
  /** A BullMQ worker feeding `processor` the jobs of the instance's call queue. */
  instanceWorker(instanceId: string, processor: (job: Job) => void): BullWorker;
  post(callerId: string, msg: HostMessage): void;
  flush(): Promise<unknown>;
  /** A line about something ignored (rate-limited: a flood of bad jobs must not flood the log). */
  warn(line: string): void;
}

/** One worker instance placed on this host. */
export class HostedInstance {
  readonly id: string;
  readonly callerId: string;
  readonly className: string;
  private runtime?: WorkerRuntime;
  private worker?: BullWorker;
  private readonly cancelled = new Set<number>();
  private stopping = false;
  /** Stopped by the host, not by its caller: calls it cuts short are left to the caller's recovery. */
  private abandoned = false;
  private ended = false;
  /** Number of the next job to run, and jobs fetched ahead of their turn. */
  private nextSeq = 1;
  private readonly parked = new Map<number, string>();
  /** Calls received and not settled yet, and who waits for that to reach 0. */
  private inflight = 0;
  private idleWaiter?: () => void;
  private resolveFinished!: () => void;
  readonly finished = new Promise<void>((resolve) => (this.resolveFinished = resolve));

  constructor(
    private readonly host: InstanceHost,
    private readonly data: PlacementData,
  ) {
    this.id = data.i;
    this.callerId = data.c;
    this.className = data.cls;
  }

  /** Builds the instance and starts consuming its call queue; reports ready or init-error. */
  async start(): Promise<void> {
    try {
      this.runtime = this.build(unpack<PlacementPayload>(Buffer.from(this.data.p, 'base64')));
    } catch (error) {
      const initError = error instanceof WorkerInitError ? error : new WorkerInitError(`${this.className} could not start on host ${this.host.id}: ${messageOf(error)}`, { cause: error });
      this.host.post(this.callerId, { t: 'init-error', i: this.id, e: encodeError(initError) });
      await this.host.flush();
      this.end();
      return;
    }
    this.host.post(this.callerId, { t: 'ready', i: this.id });
    if (this.stopping) return;
    this.worker = this.host.instanceWorker(this.id, (job) => this.run(job));
  }

  private build(payload: PlacementPayload): WorkerRuntime {
    const cls = this.host.workerClass(this.className);
    const options = { ...this.host.runtimeOptions(payload.runtimeOptions, cls), inline: true };
    // Callers always send it; without it the instance would take calls and never run them.
    if (!Number.isSafeInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
      throw new HostRefusedError(`This host refuses a placement whose options are not what a caller sends (maxConcurrency is ${typeof options.maxConcurrency === 'number' ? options.maxConcurrency : `a ${typeof options.maxConcurrency}`})`);
    }
    const emit = (ev: RuntimeEvent) => this.host.post(this.callerId, { t: 'e', i: this.id, ev });
    return new WorkerRuntime(cls, payload.ctorArgs, options, {
      emit,
      // Waits for limits are reported like on the caller's side in the other modes.
      limits: payload.limits ? observeLimitWaits(this.host.limits(payload.limits, payload.workerIndex), emit, () => true) : emptyLimitSet(),
      budget: payload.budget ? this.host.budget(payload.budget) : undefined,
    });
  }

  /** One job = the calls the caller sent in one go, in order; job n+1 runs after job n. */
  private run(job: Job): void {
    const { s, c } = (job.data ?? {}) as { s?: unknown; c?: unknown };
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || typeof c !== 'string') {
      this.host.warn(`instance ${this.id}: ignored a job that is not a batch of calls`);
      return;
    }
    if (s !== this.nextSeq) {
      if (s > this.nextSeq) this.parked.set(s, c);
      return;
    }
    this.runCalls(c);
    this.nextSeq++;
    for (let next = this.parked.get(this.nextSeq); next !== undefined; next = this.parked.get(this.nextSeq)) {
      this.parked.delete(this.nextSeq++);
      this.runCalls(next);
    }
  }

  private runCalls(encoded: string): void {
    let calls: WireCall[];
    try {
      calls = unpack<WireCall[]>(Buffer.from(encoded, 'base64'));
      if (!Array.isArray(calls)) throw new TypeError('not an array');
    } catch (error) {
      // Never stall the instance on a bad job: skip it (its calls, if any, cannot be answered).
      this.host.warn(`instance ${this.id}: ignored a batch that cannot be decoded (${messageOf(error)})`);
      return;
    }
    for (const call of calls) {
      if (!Array.isArray(call) || typeof call[0] !== 'number' || typeof call[1] !== 'string' || !Array.isArray(call[2])) continue;
      const [id, method, args] = call;
      this.inflight++;
      const settler = new CallSettler(this, id, method);
      if (this.stopping || !this.runtime) settler.reject(new CancelledError('Worker stopped before the call ran'));
      else if (this.cancelled.delete(id)) settler.reject(new CancelledError('Call was cancelled'));
      else this.runtime.submit(id, method, args, settler);
    }
  }

  /** @internal */
  settle(id: number, ok: boolean, value: unknown): void {
    this.cancelled.delete(id);
    if (--this.inflight === 0) this.idleWaiter?.();
    // Ended by the host itself (Redis lost the instance, its caller is gone, the host shuts down): the
    // caller did not cancel anything, so a call cut short is the crash it is (at most once: never
    // re-run here; left unanswered, the caller's recovery could re-send a call that already ran).
    if (this.abandoned && !ok && value instanceof CancelledError) {
      value = new WorkerCrashedError(`The host ended ${this.className} (its state in Redis was lost, or the host is shutting down): ${value.message}`);
    }
    this.host.post(this.callerId, { t: 'r', i: this.id, b: [[id, ok, ok ? value : encodeError(value)]] });
  }

  cancel(id: number): void {
    if (this.runtime?.cancel(id)) this.settle(id, false, new CancelledError('Call was cancelled'));
    else if (this.cancelled.size < 10_000) this.cancelled.add(id);
  }

  /** Stops fetching, shuts the runtime down (queued calls cancelled, running ones get `timeout`), reports. */
  async stop(timeout: number, report: boolean): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abandoned = !report;
    const closing = this.worker ? within(this.worker.close(true), 3000) : undefined;
    await this.runtime?.shutdown(timeout);
    await closing;
    if (report) this.host.post(this.callerId, { t: 'stopped', i: this.id });
    await within(this.host.flush(), 3000);
    this.end();
  }

  /** Host shutdown: stop fetching, let every fetched call finish (up to `ms`), then stop. */
  async drain(ms: number): Promise<void> {
    if (this.stopping) return;
    if (this.worker) await within(this.worker.close(true), 3000);
    if (this.inflight > 0) {
      let timer: LongTimeout | undefined;
      await new Promise<void>((resolve) => {
        this.idleWaiter = resolve;
        timer = setLongTimeout(resolve, ms);
      });
      clearLongTimeout(timer);
    }
    await this.stop(0, false);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopping = true;
    void this.worker?.close(true).catch(() => {});
    this.resolveFinished();
  }
}

/** One small object per call: posts the outcome to the caller. */
class CallSettler implements Settler {
  constructor(
    private readonly inst: HostedInstance,
    private readonly id: number,
    readonly method: string,
  ) {}
  resolve(v: unknown): void {
    this.inst.settle(this.id, true, v);
  }
  reject(e: unknown): void {
    this.inst.settle(this.id, false, e);
  }
}
