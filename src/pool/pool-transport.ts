/**
 * A pool is a Transport made of member transports, so the handle and its call path are the same
 * for one worker and for many. The pool balances calls over members, bounds calls in flight per
 * member (`maxQueuedTasks`, extra calls wait in one FIFO), starts a worker per call in on-demand
 * mode, and replaces members that die — re-sending the calls that never started and, within the
 * method's `numRetries`, the ones that may have been running.
 *
 * Crash safety (docs/modes.md, "When a worker dies"): a dead member leaves the rotation before any
 * of its calls settle, so nothing is sent to it again; its member transport says which calls
 * provably never started (CallNotStartedError: sent elsewhere as if new) and which may have run
 * (WorkerCrashedError: failed, or re-sent within numRetries — never re-run otherwise, so a call
 * that kills its worker kills one). A replacement whose start fails is started again after a
 * backoff; {@link MAX_START_FAILURES} failures in a row and the pool gives up with WorkerInitError.
 */
import { CancelledError, WorkerCrashedError, WorkerInitError } from '../errors.js';
import type { Settler, Transport, TransportCall, TransportFactory, TransportInit } from '../modes/transport.js';
import { createBalancer, type Balancer, type LoadBalancing, type WorkerLoad } from './balancers.js';
import { CallNotStartedError } from '../modes/not-started.js';
import { primeFields } from '../util/field-shapes.js';

/**
 * Failed starts in a row (of one worker; of any worker in an onDemand pool) after which the pool
 * gives up: ready(), its queued calls and every later call reject with WorkerInitError.
 */
export const MAX_START_FAILURES = 3;
/** Wait before starting a worker again after its start failed: 50 ms, then doubling. */
export const START_RETRY_BASE_MS = 50;

/** Pool settings, already validated. */
export interface PoolSettings {
  maxWorkers: number;
  loadBalancing: LoadBalancing;
  onDemand: boolean;
  /** Calls in flight per worker; Infinity = unbounded. */
  maxQueuedTasks: number;
  /** Re-sends allowed for a call that was running on a worker that died (the method's numRetries). */
  crashRetriesFor: (method: string) => number;
  /** Failed starts in a row after which the pool gives up; default {@link MAX_START_FAILURES}. */
  maxStartFailures?: number;
}

/** Per-worker numbers in `stats().pool.workers`. */
export interface PoolWorkerStats {
  index: number;
  active: number;
  dispatched: number;
  completed: number;
  failed: number;
  replacements: number;
}

/** What `handle.stats().pool` reports. */
export interface PoolStats {
  workers: PoolWorkerStats[];
  /** Calls waiting in the pool's FIFO for a free slot. */
  queued: number;
  dispatched: number;
  onDemand: boolean;
  balancer: Record<string, unknown>;
}

class Member implements WorkerLoad {
  dispatched = 0;
  completed = 0;
  failed = 0;
  replacements = 0;
  /** Out of rotation: its worker died and the next one is not started yet (or the pool gave up). */
  down = false;
  /** The current transport has been ready. */
  up = false;
  /** Some transport of this member has been ready (the pool's ready() waits for every member). */
  everUp = false;
  /** Failed starts in a row. */
  startFailures = 0;
  restartTimer?: ReturnType<typeof setTimeout>;
  transport!: Transport;
  /** The transport the pool last asked to terminate a call's worker. */
  terminated?: Transport;
  /**
   * Calls in flight on this member. A count, not a list: a dead member's transport hands each of
   * its calls back itself, so the pool never walks them, and every byte a call holds costs while
   * a caller keeps a batch of futures (docs/decisions/call-footprint.md).
   */
  active = 0;

  constructor(readonly index: number) {}
}

/** PoolCall's flags: two bits, then the crash re-send count. */
const DONE = 1;
const CANCELLED = 2;
const RESENDS_SHIFT = 2;

/**
 * One call's journey through the pool; it is the settler its member transport sees, and the
 * call's `poolEntry`, which is how cancel/terminate/hedging find it without a table by id.
 */
class PoolCall implements Settler {
  /** The member running the call; undefined while it waits in the pool's queue and once it is done. */
  member?: Member = undefined;
  /** `done` and `cancelled` as bits, crash re-sends above them: one field, not three (see Member.active). */
  private flags = 0;

  /** Settled, dropped by cancel, or rejected by stop: no longer the pool's business. */
  get done(): boolean {
    return (this.flags & DONE) !== 0;
  }
  markDone(): void {
    this.flags |= DONE;
  }

  /** Cancelled by the caller: never re-sent after a crash. */
  get cancelled(): boolean {
    return (this.flags & CANCELLED) !== 0;
  }
  markCancelled(): void {
    this.flags |= CANCELLED;
  }

  /** Re-sends after a crash that may have run it (bounded by the method's numRetries). */
  get crashResends(): number {
    return this.flags >> RESENDS_SHIFT;
  }
  countCrashResend(): void {
    this.flags += 1 << RESENDS_SHIFT;
  }

  constructor(
    readonly pool: PoolTransport,
    readonly call: TransportCall,
    readonly settler: Settler,
  ) {}

  resolve(value: unknown): void {
    this.pool.settled(this, false, value);
  }

  reject(error: unknown): void {
    this.pool.settled(this, true, error);
  }
}

// Primed when the module loads (see util/field-shapes.ts): a call's member changes as it is sent
// and settled, its flags as it ends.
primeFields(new PoolCall(undefined as never, undefined as never, undefined as never), { any: ['member'], smallIntegers: ['flags'] });

export class PoolTransport implements Transport {
  private readonly members: Member[] = [];
  private readonly waiting: PoolCall[] = [];
  /** Calls handed back by a dead member, in send order; they go to the front of `waiting` together. */
  private requeued: PoolCall[] = [];
  /** Calls sent to the pool and not done (waiting or in flight). */
  private open = 0;
  private readonly balancer: Balancer;
  private dispatched = 0;
  private stopping = false;
  private broken?: Error;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: unknown) => void;
  private onDemandCounter = 0;
  /** onDemand pools: failed starts in a row, and whether new workers wait out a backoff. */
  private onDemandStartFailures = 0;
  private onDemandHold?: ReturnType<typeof setTimeout>;
  /** Some worker of this pool has been ready: from then on a failed start is retried. */
  private everStarted = false;

  constructor(
    private readonly init: TransportInit,
    private readonly makeMember: TransportFactory,
    private readonly settings: PoolSettings,
  ) {
    this.balancer = createBalancer(settings.loadBalancing, init.random);
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => {});
    if (settings.onDemand) {
      this.resolveReady();
    } else {
      for (let i = 0; i < settings.maxWorkers; i++) {
        const member = new Member(i);
        this.members.push(member);
        this.start(member, false);
      }
    }
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  get inFlight(): number {
    return this.open;
  }

  send(call: TransportCall, settler: Settler): void {
    if (this.broken) return settler.reject(this.broken);
    const pc = this.track(call, settler);
    if (this.waiting.length > 0 || this.requeued.length > 0 || !this.dispatch(pc)) this.waiting.push(pc);
  }

  isInFlight(call: TransportCall): boolean {
    return this.entryOf(call) !== undefined;
  }

  terminate(call: TransportCall, reason: string): void {
    const member = this.entryOf(call)?.member;
    if (!member?.transport.terminate) return;
    // Ended on purpose, maybe before it was ready: that is no failed start.
    member.terminated = member.transport;
    member.transport.terminate(call, reason);
  }

  sendElsewhere(call: TransportCall, settler: Settler, avoidCalls: readonly TransportCall[]): boolean {
    if (this.broken || this.stopping || this.settings.onDemand) return false;
    const avoid = new Set<Member>();
    for (const other of avoidCalls) {
      const member = this.entryOf(other)?.member;
      if (member) avoid.add(member);
    }
    const index = this.balancer.select(this.members, (i) => this.hasSlot(i) && !avoid.has(this.members[i]));
    if (index < 0) return false;
    this.sendTo(this.track(call, settler), this.members[index]);
    return true;
  }

  cancel(call: TransportCall): boolean {
    const pc = this.entryOf(call);
    if (!pc) return false;
    pc.markCancelled();
    const member = pc.member;
    if (!member) {
      if (!removeFrom(this.waiting, pc) && !removeFrom(this.requeued, pc)) return false;
      this.untrack(pc);
      return true;
    }
    if (!member.transport.cancel(call)) return false;
    // The member dropped it before it ran: it will never settle it, so free its slot here.
    this.leave(pc, member);
    this.untrack(pc);
    this.drain();
    return true;
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.onDemandHold) clearTimeout(this.onDemandHold);
    for (const m of this.members) if (m.restartTimer) clearTimeout(m.restartTimer);
    this.rejectQueued(new CancelledError('Pool stopped before the call was sent'));
    await Promise.all(this.members.map((m) => m.transport.stop(timeoutMs)));
  }

  stats(): PoolStats {
    return {
      workers: this.members.map((m) => ({
        index: m.index,
        active: m.active,
        dispatched: m.dispatched,
        completed: m.completed,
        failed: m.failed,
        replacements: m.replacements,
      })),
      queued: this.waiting.length + this.requeued.length,
      dispatched: this.dispatched,
      onDemand: this.settings.onDemand,
      balancer: this.balancer.stats(),
    };
  }

  /** @internal a member settled one of our calls. */
  settled(pc: PoolCall, failed: boolean, value: unknown): void {
    const member = pc.member;
    if (!member || pc.done) return;
    this.leave(pc, member);
    if (this.settings.onDemand && member.active === 0) this.retireOnDemand(member);
    if (failed && value instanceof WorkerCrashedError) {
      if (value instanceof CallNotStartedError ? this.sendAgain(pc) : this.retryAfterCrash(pc)) return;
      // Handed back after the pool gave up: the reason is the pool's.
      if (value instanceof CallNotStartedError && this.broken) value = this.broken;
    }
    if (failed) member.failed++;
    else member.completed++;
    this.untrack(pc);
    if (failed) pc.settler.reject(value);
    else pc.settler.resolve(value);
    this.drain();
  }

  private track(call: TransportCall, settler: Settler): PoolCall {
    const pc = new PoolCall(this, call, settler);
    call.poolEntry = pc;
    this.open++;
    return pc;
  }

  private untrack(pc: PoolCall): void {
    pc.markDone();
    this.open--;
    // The call's future may be kept long after (see HandleCore.settled): it should not keep this.
    if (pc.call.poolEntry === pc) pc.call.poolEntry = undefined;
  }

  /** This pool's live entry for `call`, if the call is waiting or in flight here. */
  private entryOf(call: TransportCall): PoolCall | undefined {
    const pc = call.poolEntry;
    return pc instanceof PoolCall && pc.pool === this && !pc.done ? pc : undefined;
  }

  /** `pc` no longer runs on `member` (settled, dropped, or about to be re-sent). */
  private leave(pc: PoolCall, member: Member): void {
    member.active--;
    pc.member = undefined;
  }

  /** Starts `member`'s next worker; `replacing`: it replaces one that died or failed to start. */
  private start(member: Member, replacing: boolean): void {
    member.restartTimer = undefined;
    if (replacing) member.replacements++;
    let transport: Transport;
    try {
      transport = this.makeMember({
        ...this.init,
        workerIndex: member.index,
        onCrash: (error) => this.onWorkerGone(member, transport, error),
      });
    } catch (error) {
      if (!replacing) throw error; // the pool's own construction: init() reports it
      member.down = true;
      this.onStartFailure(member, error);
      return;
    }
    member.transport = transport;
    member.up = false;
    member.down = false;
    transport.ready().then(
      () => this.onStarted(member, transport),
      // Thread/process transports report a failed start through onCrash. A distributed transport only
      // rejects ready(), and later recovers by itself from a Redis restart, so its rejection counts as
      // a failed start only while no worker of the pool ever started (a wrong password, a bad module):
      // then the pool gives up at once instead of leaving ready() and its calls pending.
      (error: unknown) => {
        if (!this.everStarted) this.onWorkerGone(member, transport, error instanceof Error ? error : new Error(String(error)));
      },
    );
    if (replacing) this.drain();
  }

  private onStarted(member: Member, transport: Transport): void {
    if (member.transport !== transport || member.down) return;
    member.up = true;
    member.everUp = true;
    member.startFailures = 0;
    this.onDemandStartFailures = 0;
    this.everStarted = true;
    if (!this.settings.onDemand && this.members.every((m) => m.everUp)) this.resolveReady();
  }

  /**
   * A member's worker is gone (crashed, or failed to start). Called by its transport before the
   * worker's calls settle, so none of them is sent to it again.
   */
  private onWorkerGone(member: Member, transport: Transport, error: Error): void {
    if (member.transport !== transport || member.down) return;
    member.down = true;
    if (this.stopping) return;
    const startFailed = !member.up && member.terminated !== transport;
    if (this.settings.onDemand) {
      if (member.active === 0) this.retireOnDemand(member);
      if (startFailed) this.onStartFailure(undefined, error);
      return;
    }
    if (startFailed) this.onStartFailure(member, error);
    else this.start(member, true); // a crash of a running worker: replace it at once
  }

  /**
   * A start failed (`member` undefined: an onDemand worker). Start again after a backoff, or give up.
   * Before any worker of the pool ever started, a failure is taken as final: a constructor that
   * throws on the first start is a bug to report at once, not after three slow attempts.
   */
  private onStartFailure(member: Member | undefined, error: unknown): void {
    if (!this.everStarted) return this.giveUp(error);
    const failures = member ? ++member.startFailures : ++this.onDemandStartFailures;
    if (failures >= (this.settings.maxStartFailures ?? MAX_START_FAILURES)) return this.giveUp(error);
    const delay = START_RETRY_BASE_MS * 2 ** (failures - 1);
    if (member) {
      member.restartTimer = setTimeout(() => this.start(member, true), delay);
    } else {
      this.onDemandHold = setTimeout(() => {
        this.onDemandHold = undefined;
        this.drain();
      }, delay);
    }
  }

  private giveUp(error: unknown): void {
    if (this.broken) return;
    this.broken =
      error instanceof WorkerInitError
        ? error
        : new WorkerInitError(`Pool gave up starting workers after ${this.settings.maxStartFailures ?? MAX_START_FAILURES} failed starts in a row: ${String((error as Error)?.message ?? error)}`, { cause: error });
    for (const m of this.members) {
      if (m.restartTimer) clearTimeout(m.restartTimer);
      m.restartTimer = undefined;
    }
    this.rejectReady(this.broken);
    this.rejectQueued(this.broken);
  }

  private rejectQueued(error: Error): void {
    const queued = [...this.requeued.splice(0), ...this.waiting.splice(0)];
    for (const pc of queued) {
      this.untrack(pc);
      pc.settler.reject(error);
    }
  }

  private readonly hasSlot = (i: number): boolean => {
    const m = this.members[i];
    return !m.down && m.active < this.settings.maxQueuedTasks;
  };

  /** Sends `pc` to a member with a free slot; false when every member is full (or down). */
  private dispatch(pc: PoolCall): boolean {
    let member: Member | undefined;
    if (this.settings.onDemand) {
      if (this.members.length >= this.settings.maxWorkers || this.onDemandHold) return false;
      member = new Member(this.onDemandCounter++);
      this.members.push(member);
      this.start(member, false);
    } else {
      const index = this.balancer.select(this.members, this.hasSlot);
      if (index < 0) return false;
      member = this.members[index]!;
    }
    this.sendTo(pc, member);
    return true;
  }

  private sendTo(pc: PoolCall, member: Member): void {
    pc.member = member;
    member.dispatched++;
    this.dispatched++;
    member.active++;
    member.transport.send(pc.call, pc);
  }

  private drain(): void {
    while (this.waiting.length > 0 && !this.stopping && !this.broken) {
      if (!this.dispatch(this.waiting[0])) return;
      this.waiting.shift();
    }
  }

  /** A call its dead worker never started: it goes to another worker as if new. */
  private sendAgain(pc: PoolCall): boolean {
    if (this.stopping || this.broken || pc.cancelled) return false;
    if (this.requeued.push(pc) === 1) {
      // The dead worker hands its calls back one by one, in send order: they go to the front
      // of the queue together once it is done, so they keep that order.
      queueMicrotask(() => {
        const calls = this.requeued;
        this.requeued = [];
        this.waiting.unshift(...calls);
        this.drain();
      });
    }
    return true;
  }

  /** A call that may have run when its worker died: re-sent only within its method's numRetries. */
  private retryAfterCrash(pc: PoolCall): boolean {
    if (pc.crashResends >= this.settings.crashRetriesFor(pc.call.method) || !this.sendAgain(pc)) return false;
    pc.countCrashResend();
    return true;
  }

  private retireOnDemand(member: Member): void {
    const i = this.members.indexOf(member);
    if (i < 0) return;
    this.members.splice(i, 1);
    void member.transport.stop(0);
  }
}

function removeFrom(list: PoolCall[], pc: PoolCall): boolean {
  const i = list.indexOf(pc);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}
