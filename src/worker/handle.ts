/**
 * The caller's side of a worker (or pool): turns method calls into Futures, keeps submission order
 * while argument futures resolve, tracks what is pending so `stop()` can settle everything, and
 * collects events and per-method stats. The same handle serves every mode; the mode lives in the
 * Transport.
 */
import { CancelledError, WorkerStoppedError } from '../errors.js';
import { Future } from '../future/future.js';
import { argsNeedUnwrapping, unwrapDeep } from '../future/unwrap.js';
import type { Transport } from '../modes/transport.js';
import type { RuntimeEvent, RuntimeEventType } from '../runtime/events.js';
import { unknownMethod } from '../runtime/runtime.js';

/** Per-method counters reported by `handle.stats()`. */
export interface MethodStats {
  /** Calls submitted. */
  calls: number;
  /** Attempts made by finished calls (first attempts plus retries). */
  attempts: number;
  retries: number;
  successes: number;
  failures: number;
  validationFailures: number;
  /** Total time spent in retry backoff, ms. */
  totalBackoffMs: number;
}

/** What `handle.stats()` returns. */
export interface HandleStats {
  methods: Record<string, MethodStats>;
  /** Calls submitted and not yet settled. */
  pending: number;
  stopped: boolean;
  /** Per-worker load and balancer state, for pools. */
  pool?: import('../pool/pool-transport.js').PoolStats;
}

/** Options of `stop()`. */
export interface StopOptions {
  /** How long running calls may take to finish before they are cancelled, ms. */
  timeout?: number;
}

type EventListener<T extends RuntimeEventType> = (event: Extract<RuntimeEvent, { type: T }>) => void;

/** A Future that reports its own settlement to the handle that made it. */
class CallFuture extends Future<unknown> {
  constructor(
    readonly id: number,
    readonly core: HandleCore,
    readonly stats: MethodStats,
  ) {
    super();
  }

  override resolve(value: unknown): void {
    if (this.done) return;
    this.core.settled(this);
    this.stats.successes++;
    super.resolve(value);
  }

  override reject(error: unknown): void {
    if (this.done) return;
    this.core.settled(this);
    this.stats.failures++;
    super.reject(error);
  }
}

interface HeldCall {
  future: CallFuture;
  method: string;
  args: unknown[] | Promise<unknown>;
  resolvedArgs?: unknown[];
}

export class HandleCore {
  private nextId = 1;
  private readonly pending = new Map<number, CallFuture>();
  /** Calls waiting for argument futures, and calls behind them (so order is kept). */
  private readonly held: HeldCall[] = [];
  private stopPromise?: Promise<void>;
  private stopped = false;
  private readonly listeners = new Map<string, Set<(e: any) => void>>();
  private readonly methodStats = new Map<string, MethodStats>();

  constructor(
    readonly className: string,
    readonly methodNames: readonly string[],
    private readonly transport: Transport,
    private readonly unwrapFutures: boolean,
    private readonly stopTimeout: number,
  ) {
    for (const name of methodNames) this.methodStats.set(name, emptyStats());
  }

  /** Submits a call; the Future settles with its outcome. */
  call(method: string, args: unknown[]): Future<unknown> {
    if (this.stopped) throw new WorkerStoppedError();
    const stats = this.methodStats.get(method);
    if (!stats) throw unknownMethod(this.className, method, [...this.methodNames]);
    stats.calls++;
    const future = new CallFuture(this.nextId++, this, stats);
    this.pending.set(future.id, future);
    future.canceller = () => this.cancel(future);
    if (this.held.length === 0 && !(this.unwrapFutures && argsNeedUnwrapping(args))) {
      this.transport.send({ id: future.id, method, args }, future);
    } else {
      this.hold(future, method, args);
    }
    return future;
  }

  /** @internal */
  settled(future: CallFuture): void {
    this.pending.delete(future.id);
  }

  /** @internal Feeds a runtime event to stats and listeners. */
  onEvent = (event: RuntimeEvent): void => {
    const stats = this.methodStats.get(event.methodName);
    if (stats) {
      if (event.type === 'retry') {
        stats.retries++;
        stats.totalBackoffMs += event.delayMs;
      } else if (event.type === 'validation-failed') stats.validationFailures++;
    }
    const set = this.listeners.get(event.type);
    if (set) for (const fn of set) fn(event);
  };

  on<T extends RuntimeEventType>(type: T, listener: EventListener<T>): () => void {
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
      methods[name] = { ...s, attempts: s.successes + s.failures + s.retries };
    }
    const pool = (this.transport as { stats?: () => HandleStats['pool'] }).stats?.();
    return { methods, pending: this.pending.size, stopped: this.stopped, ...(pool ? { pool } : {}) };
  }

  ready(): Promise<void> {
    return this.transport.ready();
  }

  /** Idempotent: every call returns the same promise. */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.stopped = true;
    const timeout = options.timeout ?? this.stopTimeout;
    this.stopPromise = (async () => {
      for (const h of this.held.splice(0)) h.future.reject(new CancelledError('Worker stopped before the call was sent'));
      try {
        await this.transport.stop(timeout);
      } finally {
        for (const f of [...this.pending.values()]) f.reject(new CancelledError('Worker stopped before the call finished'));
      }
    })();
    return this.stopPromise;
  }

  private cancel(future: CallFuture): boolean {
    const heldIndex = this.held.findIndex((h) => h.future === future);
    if (heldIndex >= 0) {
      this.held.splice(heldIndex, 1);
      this.pumpHeld();
      return true;
    }
    return this.transport.cancel(future.id);
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
    while (this.held.length > 0 && this.held[0]!.resolvedArgs && !this.stopped) {
      const h = this.held.shift()!;
      if (h.future.done) continue;
      this.transport.send({ id: h.future.id, method: h.method, args: h.resolvedArgs! }, h.future);
    }
  }
}

function emptyStats(): MethodStats {
  return { calls: 0, attempts: 0, retries: 0, successes: 0, failures: 0, validationFailures: 0, totalBackoffMs: 0 };
}
