/**
 * A pool is a Transport made of member transports, so the handle and its call path are the same
 * for one worker and for many. The pool balances calls over members, bounds calls in flight per
 * member (`maxQueuedTasks`, extra calls wait in one FIFO), starts a worker per call in on-demand
 * mode, and replaces members that die — re-sending the calls that never started and, within the
 * method's `numRetries`, the ones that were running.
 */
import { CancelledError, WorkerCrashedError, WorkerInitError } from '../errors.js';
import type { Settler } from '../runtime/runtime.js';
import type { Transport, TransportCall, TransportFactory, TransportInit } from '../modes/transport.js';
import { IntrusiveList } from '../util/linked-list.js';
import { createBalancer, type Balancer, type LoadBalancing, type WorkerLoad } from './balancers.js';

/** Pool settings, already validated. */
export interface PoolSettings {
  maxWorkers: number;
  loadBalancing: LoadBalancing;
  onDemand: boolean;
  /** Calls in flight per worker; Infinity = unbounded. */
  maxQueuedTasks: number;
  /** Re-sends allowed for a call that was running on a worker that died (the method's numRetries). */
  crashRetriesFor: (method: string) => number;
  /** Consecutive failed constructions after which the pool gives up instead of respawning. */
  maxConsecutiveInitFailures?: number;
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
  dead = false;
  /** Calls in flight on this member, in send order (the prefix may be running). */
  readonly inFlight = new IntrusiveList<PoolCall>();

  get active(): number {
    return this.inFlight.size;
  }

  constructor(
    readonly index: number,
    public transport: Transport,
  ) {}
}

/**
 * One call's journey through the pool; it is the settler its member transport sees, and the
 * call's `poolEntry`, which is how cancel/terminate/hedging find it without a table by id.
 */
class PoolCall implements Settler {
  /** The member running the call; undefined while it waits in the pool's queue and once it is done. */
  member?: Member = undefined;
  prevLink?: PoolCall = undefined;
  nextLink?: PoolCall = undefined;
  /** Settled, dropped by cancel, or rejected by stop: no longer the pool's business. */
  done = false;
  /** The member transport the call was last sent to. */
  sentTo?: Transport;
  /** Position among its transport's in-flight calls when that transport crashed. */
  crashRank?: number;
  crashResends = 0;
  /** Cancelled by the caller: never re-sent after a crash. */
  cancelled = false;

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

export class PoolTransport implements Transport {
  private readonly members: Member[] = [];
  private readonly waiting: PoolCall[] = [];
  /** Calls sent to the pool and not done (waiting or in flight). */
  private open = 0;
  private readonly balancer: Balancer;
  private dispatched = 0;
  private stopping = false;
  private broken?: Error;
  private consecutiveInitFailures = 0;
  private readonly readyPromise: Promise<void>;
  private onDemandCounter = 0;

  constructor(
    private readonly init: TransportInit,
    private readonly makeMember: TransportFactory,
    private readonly settings: PoolSettings,
  ) {
    this.balancer = createBalancer(settings.loadBalancing, init.random);
    if (settings.onDemand) {
      this.readyPromise = Promise.resolve();
    } else {
      for (let i = 0; i < settings.maxWorkers; i++) this.members.push(new Member(i, this.spawn(i)));
      this.readyPromise = Promise.all(this.members.map((m) => m.transport.ready())).then(() => undefined);
      this.readyPromise.catch(() => {});
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
    if (this.waiting.length > 0 || !this.dispatch(pc)) this.waiting.push(pc);
  }

  isInFlight(call: TransportCall): boolean {
    return this.entryOf(call) !== undefined;
  }

  terminate(call: TransportCall, reason: string): void {
    this.entryOf(call)?.member?.transport.terminate?.(call, reason);
  }

  sendElsewhere(call: TransportCall, settler: Settler, avoidCalls: readonly TransportCall[]): boolean {
    if (this.broken || this.stopping || this.settings.onDemand) return false;
    const avoid = new Set<Member>();
    for (const other of avoidCalls) {
      const member = this.entryOf(other)?.member;
      if (member) avoid.add(member);
    }
    const index = this.balancer.select(this.members, (i) => this.hasSlot(i) && !avoid.has(this.members[i]!));
    if (index < 0) return false;
    this.sendTo(this.track(call, settler), this.members[index]!);
    return true;
  }

  cancel(call: TransportCall): boolean {
    const pc = this.entryOf(call);
    if (!pc) return false;
    pc.cancelled = true;
    const member = pc.member;
    if (!member) {
      const i = this.waiting.indexOf(pc);
      if (i < 0) return false;
      this.waiting.splice(i, 1);
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
    for (const pc of this.waiting.splice(0)) {
      this.untrack(pc);
      pc.settler.reject(new CancelledError('Pool stopped before the call was sent'));
    }
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
      queued: this.waiting.length,
      dispatched: this.dispatched,
      onDemand: this.settings.onDemand,
      balancer: this.balancer.stats(),
    };
  }

  /** @internal a member settled one of our calls. */
  settled(pc: PoolCall, failed: boolean, value: unknown): void {
    const member = pc.member;
    if (!member || pc.done) return;
    if (failed && value instanceof WorkerCrashedError && pc.crashRank === undefined) this.rankCrashedCalls(member, pc.sentTo!);
    this.leave(pc, member);
    if (failed && value instanceof WorkerCrashedError && this.resendAfterCrash(pc, member)) return;
    if (failed) member.failed++;
    else member.completed++;
    this.untrack(pc);
    if (this.settings.onDemand) this.retireOnDemand(member);
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
    pc.done = true;
    this.open--;
  }

  /** This pool's live entry for `call`, if the call is waiting or in flight here. */
  private entryOf(call: TransportCall): PoolCall | undefined {
    const pc = call.poolEntry;
    return pc instanceof PoolCall && pc.pool === this && !pc.done ? pc : undefined;
  }

  /** `pc` no longer runs on `member` (settled, dropped, or about to be re-sent). */
  private leave(pc: PoolCall, member: Member): void {
    member.inFlight.remove(pc);
    pc.member = undefined;
  }

  private spawn(index: number): Transport {
    return this.makeMember({
      ...this.init,
      workerIndex: index,
      onCrash: (error) => this.onMemberCrash(index, error),
    });
  }

  private readonly hasSlot = (i: number): boolean => {
    const m = this.members[i]!;
    return !m.dead && m.active < this.settings.maxQueuedTasks;
  };

  /** Sends `pc` to a member with a free slot; false when every member is full. */
  private dispatch(pc: PoolCall): boolean {
    let member: Member | undefined;
    if (this.settings.onDemand) {
      if (this.members.length >= this.settings.maxWorkers) return false;
      const index = this.onDemandCounter++;
      member = new Member(index, this.spawn(index));
      this.members.push(member);
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
    member.inFlight.add(pc);
    pc.sentTo = member.transport;
    pc.crashRank = undefined;
    member.transport.send(pc.call, pc);
  }

  private drain(): void {
    while (this.waiting.length > 0 && !this.stopping) {
      if (!this.dispatch(this.waiting[0]!)) return;
      this.waiting.shift();
    }
  }

  /**
   * A crashed member rejects its in-flight calls with WorkerCrashedError. Calls that cannot have
   * started yet (behind the first `maxConcurrency` in send order) go to live workers as if new;
   * a call that may have been running is re-sent only within its method's numRetries.
   */
  private resendAfterCrash(pc: PoolCall, member: Member): boolean {
    if (this.stopping || this.broken || pc.cancelled) return false;
    const mayHaveRun = (pc.crashRank ?? 0) < this.init.runtimeOptions.maxConcurrency;
    if (mayHaveRun) {
      if (pc.crashResends >= this.settings.crashRetriesFor(pc.call.method)) return false;
      pc.crashResends++;
    }
    member.failed++;
    this.waiting.unshift(pc);
    queueMicrotask(() => this.drain());
    return true;
  }

  /**
   * Calls start in send order, so of a crashed transport's in-flight calls only the first
   * `maxConcurrency` can have been running; rank them once, at the first crash rejection.
   */
  private rankCrashedCalls(member: Member, transport: Transport): void {
    let rank = 0;
    for (let call = member.inFlight.head; call; call = call.nextLink) if (call.sentTo === transport) call.crashRank = rank++;
  }

  private onMemberCrash(index: number, _error: Error): void {
    const member = this.members.find((m) => m.index === index);
    if (!member || this.stopping) return;
    if (this.settings.onDemand) {
      member.dead = true;
      return;
    }
    member.replacements++;
    member.transport = this.spawn(index);
    member.transport.ready().then(
      () => {
        this.consecutiveInitFailures = 0;
        this.drain();
      },
      (error) => this.onReplacementInitFailure(member, error),
    );
  }

  private onReplacementInitFailure(member: Member, error: unknown): void {
    this.consecutiveInitFailures++;
    if (this.consecutiveInitFailures >= (this.settings.maxConsecutiveInitFailures ?? 3)) {
      this.broken =
        error instanceof WorkerInitError
          ? error
          : new WorkerInitError(`Pool gave up replacing crashed workers: ${String(error)}`, { cause: error });
      for (const pc of this.waiting.splice(0)) {
        this.untrack(pc);
        pc.settler.reject(this.broken);
      }
      return;
    }
    member.dead = true;
  }

  private retireOnDemand(member: Member): void {
    if (member.inFlight.size > 0) return;
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    void member.transport.stop(0);
  }
}
