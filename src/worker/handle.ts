/**
 * The caller's side of a worker (or pool): turns method calls into Futures, keeps submission order
 * while argument futures resolve, tracks what is pending so `stop()` can settle everything, and
 * collects events and per-method stats. The same handle serves every mode; the mode lives in the
 * Transport.
 */
import { CancelledError, WorkerStoppedError } from '../errors.js';
import { checkDuration, checkOneOf, checkOptionsArgument, configError } from '../config/validate.js';
import { FUTURE_SETTLING_FIELDS, Future } from '../future/future.js';
import { argsNeedUnwrapping, unwrapDeep } from '../future/unwrap.js';
import type { Transport, TransportCall } from '../modes/transport.js';
import { RUNTIME_EVENT_TYPES, type RuntimeEvent, type RuntimeEventType } from '../observability/events.js';
import { unknownMethod } from '../errors.js';
import type { CallGuard, CircuitView, GuardStats, GuardTarget } from '../resilience/guard.js';
import { LatencyRecorder, type LatencySummary } from '../observability/latency.js';
import { eventChannel, publishEvent } from '../observability/diagnostics.js';
import { IntrusiveList } from '../util/linked-list.js';
import { primeFields } from '../util/field-shapes.js';

/** Per-method counters reported by `handle.stats()`. */
export interface MethodStats extends GuardStats {
  /** Calls submitted. */
  calls: number;
  /** Attempts made by finished calls (first attempts plus retries). */
  attempts: number;
  retries: number;
  successes: number;
  /** Calls that finally failed (including those answered by a fallback, see `fallbacks`). */
  failures: number;
  validationFailures: number;
  /** Total time spent in retry backoff, ms. */
  totalBackoffMs: number;
  /** Caller-observed latency of settled calls, ms (submission to settlement). */
  latencyMs: LatencySummary;
}

/** The live counters behind {@link MethodStats}. */
interface MethodCounters extends Omit<MethodStats, 'latencyMs'> {
  latency: LatencyRecorder;
  /** The handle whose method these count: a call reaches it through here (one field fewer per call). */
  core: HandleCore;
  /** The method these count: a call's name is read from here (one field fewer per call). */
  method: string;
}

/** What `handle.stats()` returns. */
export interface HandleStats {
  methods: Record<string, MethodStats>;
  /** Calls submitted and not yet settled. */
  pending: number;
  stopped: boolean;
  /** Per-worker load, replacements and balancer state: pools, and single thread/process workers (a pool of one). */
  pool?: import('../pool/pool-transport.js').PoolStats;
}

/** Options of `stop()`. */
export interface StopOptions {
  /**
   * How long running calls may take to finish before they are cancelled, ms (>= 0). `Infinity`
   * waits for them however long they take. Default: the worker's `stopTimeout` option.
   */
  timeout?: number;
}

type EventListener<T extends RuntimeEventType> = (event: Extract<RuntimeEvent, { type: T }>) => void;

/**
 * A listener as stored: declared as a method so a listener of one event type fits (checked
 * bivariantly), which is safe because listeners are kept per type and called with that type only.
 */
type StoredListener = { call(event: RuntimeEvent): void }['call'];

/** What a settled call's `args` become (see HandleCore.settled): shared, and frozen so nothing adds to it. */
const SETTLED_ARGS: unknown[] = Object.freeze([]) as unknown as unknown[];

/** A Future that reports its own settlement to the handle that made it. */
class CallFuture extends Future<unknown> implements GuardTarget, TransportCall {
  /** Set when the call went through the resilience guard. */
  guarded?: ReturnType<CallGuard['send']>;
  poolEntry?: unknown = undefined;
  wireSlot?: number = undefined;
  /** Neighbours in the handle's list of pending calls. */
  prevLink?: CallFuture = undefined;
  nextLink?: CallFuture = undefined;
  /**
   * When the call was submitted, or undefined when its latency is not sampled (see
   * LatencyRecorder). Not -1: a field that holds fractions gets a number box of its own in every
   * object, sampled or not — 16 bytes more per call.
   */
  private readonly startedAt: number | undefined;

  /** The future doubles as the call sent to the transport: one object per call, not two. */
  constructor(
    readonly id: number,
    public args: unknown[],
    readonly stats: MethodCounters,
  ) {
    super();
    this.startedAt = stats.latency.sampleNext() ? performance.now() : undefined;
  }

  get method(): string {
    return this.stats.method;
  }

  private recordLatency(): void {
    if (this.startedAt !== undefined) this.stats.latency.record(performance.now() - this.startedAt);
  }

  override resolve(value: unknown): void {
    if (this.done) return;
    this.stats.core.settled(this);
    this.stats.successes++;
    this.recordLatency();
    super.resolve(value);
  }

  override reject(error: unknown): void {
    if (this.done) return;
    this.stats.core.settled(this);
    this.stats.failures++;
    this.recordLatency();
    super.reject(error);
  }

  protected override onCancel(): void {
    this.stats.core.cancel(this);
  }

  resolveWithFallback(value: unknown): void {
    if (this.done) return;
    this.stats.core.settled(this);
    this.stats.failures++;
    this.recordLatency();
    super.resolve(value);
  }
}

// Primed when the module loads (see util/field-shapes.ts): the fields a call rewrites once it is
// sent (pool entry, guard record) or settled (arguments let go, both cleared), and the latency
// sample's start, which is a fraction for the first 2 048 calls and mostly undefined after.
primeFields(new CallFuture(0, [], emptyStats(undefined as never, '')), {
  any: [...FUTURE_SETTLING_FIELDS.any, 'args', 'guarded', 'poolEntry', 'startedAt'],
  smallIntegers: FUTURE_SETTLING_FIELDS.smallIntegers,
});

interface HeldCall {
  future: CallFuture;
  method: string;
  args: unknown[] | Promise<unknown>;
  resolvedArgs?: unknown[];
}

export class HandleCore {
  private nextId = 1;
  /** Calls not settled yet, in submission order. */
  private readonly pending = new IntrusiveList<CallFuture>();
  /** Calls waiting for argument futures, and calls behind them (so order is kept). */
  private readonly held: HeldCall[] = [];
  private stopPromise?: Promise<void>;
  private stopped = false;
  /** Listeners by event type; each only ever receives events of its type (see `on`). */
  private readonly listeners = new Map<string, Set<StoredListener>>();
  private readonly methodStats = new Map<string, MethodCounters>();
  /** Resilience layer (breaker, timeout, hedging, fallback), when any of those options is set. */
  private guard?: CallGuard;

  constructor(
    readonly className: string,
    readonly methodNames: readonly string[],
    private readonly transport: Transport,
    private readonly unwrapFutures: boolean,
    private readonly stopTimeout: number,
  ) {
    for (const name of methodNames) this.methodStats.set(name, emptyStats(this, name));
  }

  /** @internal installs the resilience layer (before any call). */
  useGuard(makeGuard: (nextId: () => number) => CallGuard): void {
    this.guard = makeGuard(() => this.nextId++);
  }

  /** The circuit breaker's state (always 'closed' without a `circuitBreaker` option). */
  get circuit(): CircuitView {
    return this.guard?.circuit ?? NO_CIRCUIT;
  }

  /** Submits a call; the Future settles with its outcome. */
  call(method: string, args: unknown[]): Future<unknown> {
    if (this.stopped) throw new WorkerStoppedError();
    const stats = this.methodStats.get(method);
    if (!stats) throw unknownMethod(this.className, method, [...this.methodNames]);
    stats.calls++;
    const future = new CallFuture(this.nextId++, args, stats);
    this.pending.add(future);
    if (this.held.length === 0 && !(this.unwrapFutures && argsNeedUnwrapping(args))) {
      this.dispatch(future);
    } else {
      this.hold(future, method, args);
    }
    return future;
  }

  /** @internal */
  settled(future: CallFuture): void {
    this.pending.remove(future);
    // A settled call needs neither its arguments nor its guard record, but its future lives on as
    // long as the caller keeps it (a batch of 100 000 futures gathered at once): let them go now,
    // so the garbage collector does not copy them along with every future still held.
    future.args = SETTLED_ARGS;
    future.guarded = undefined;
  }

  private dispatch(future: CallFuture): void {
    if (this.guard) future.guarded = this.guard.send(future, future, future.stats);
    else this.transport.send(future, future);
  }

  /** @internal Feeds an event to stats, listeners and diagnostics_channel. */
  onEvent = (event: RuntimeEvent): void => {
    if (event.type === 'retry') {
      const stats = this.methodStats.get(event.methodName);
      if (stats) {
        stats.retries++;
        stats.totalBackoffMs += event.delayMs;
      }
    } else if (event.type === 'validation-failed') {
      const stats = this.methodStats.get(event.methodName);
      if (stats) stats.validationFailures++;
    }
    const set = this.listeners.get(event.type);
    if (set) for (const fn of set) fn(event);
    publishEvent(this.className, event);
  };

  /** @internal Whether an event of this type has a listener or a diagnostics_channel subscriber. */
  observes(type: RuntimeEventType): boolean {
    return (this.listeners.get(type)?.size ?? 0) > 0 || eventChannel(type).hasSubscribers;
  }

  on<T extends RuntimeEventType>(type: T, listener: EventListener<T>): () => void {
    // Checked here: a bad listener would otherwise throw later, inside whatever raised the event.
    checkOneOf('on(type)', type, RUNTIME_EVENT_TYPES);
    if (typeof listener !== 'function') throw configError('on(type, listener)', listener, 'a function receiving the event');
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => this.off(type, listener);
  }

  off<T extends RuntimeEventType>(type: T, listener: EventListener<T>): void {
    this.listeners.get(type)?.delete(listener);
  }

  stats(): HandleStats {
    const methods: Record<string, MethodStats> = {};
    for (const [name, s] of this.methodStats) {
      const { latency, ...counters } = s;
      const attempts = s.successes + s.failures + s.retries - s.circuitRejections;
      methods[name] = { ...counters, attempts, latencyMs: latency.summary() };
    }
    const pool = (this.transport as { stats?: () => HandleStats['pool'] }).stats?.();
    return { methods, pending: this.pending.size, stopped: this.stopped, ...(pool ? { pool } : {}) };
  }

  ready(): Promise<void> {
    return this.transport.ready();
  }

  /** Idempotent: every call returns the same promise. Bad options throw ConfigError, even after a stop. */
  stop(options?: StopOptions): Promise<void> {
    const timeout = checkDuration('stop({ timeout })', checkOptionsArgument('stop()', options).timeout) ?? this.stopTimeout;
    if (this.stopPromise) return this.stopPromise;
    this.stopped = true;
    this.stopPromise = (async () => {
      for (const h of this.held.splice(0)) h.future.reject(new CancelledError('Worker stopped before the call was sent'));
      try {
        await this.transport.stop(timeout);
      } finally {
        this.guard?.dispose();
        for (const f of this.pending.toArray()) f.reject(new CancelledError('Worker stopped before the call finished'));
      }
    })();
    return this.stopPromise;
  }

  /** @internal */
  cancel(future: CallFuture): boolean {
    if (future.guarded) return this.guard!.cancel(future.guarded);
    const heldIndex = this.held.findIndex((h) => h.future === future);
    if (heldIndex >= 0) {
      this.held.splice(heldIndex, 1);
      this.pumpHeld();
      return true;
    }
    return this.transport.cancel(future);
  }

  private hold(future: CallFuture, method: string, args: unknown[]): void {
    const entry: HeldCall = { future, method, args };
    if (this.unwrapFutures && argsNeedUnwrapping(args)) {
      entry.args = unwrapDeep(args).then(
        (resolved) => {
          entry.resolvedArgs = resolved as unknown[];
          this.pumpHeld();
        },
        (error) => {
          future.reject(error);
          const i = this.held.indexOf(entry);
          if (i >= 0) this.held.splice(i, 1);
          this.pumpHeld();
        },
      );
    } else {
      entry.resolvedArgs = args;
    }
    this.held.push(entry);
    this.pumpHeld();
  }

  /** Sends held calls from the front, in order, as their arguments become ready. */
  private pumpHeld(): void {
    while (this.held.length > 0 && this.held[0].resolvedArgs && !this.stopped) {
      const h = this.held.shift()!;
      if (h.future.done) continue;
      h.future.args = h.resolvedArgs!;
      this.dispatch(h.future);
    }
  }
}

function emptyStats(core: HandleCore, method: string): MethodCounters {
  const counters = {
    calls: 0,
    attempts: 0,
    retries: 0,
    successes: 0,
    failures: 0,
    validationFailures: 0,
    totalBackoffMs: 0,
    timeouts: 0,
    circuitRejections: 0,
    hedges: 0,
    hedgeWins: 0,
    fallbacks: 0,
    staleFallbacks: 0,
    latency: new LatencyRecorder(),
  };
  // Not enumerable: stats() spreads the counters into what users see.
  return Object.defineProperties(counters, { core: { value: core }, method: { value: method } }) as MethodCounters;
}

const NO_CIRCUIT: CircuitView = { state: 'closed', stateOf: () => 'closed', snapshot: () => [] };
