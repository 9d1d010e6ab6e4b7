/**
 * The caller-side resilience layer of a handle: sits between the handle and its transport and
 * applies, per call, the circuit breaker (admission and outcome), the timeout (abort, TimeoutError,
 * and for a thread/process method that ignores its signal, termination after a grace period),
 * hedging (a copy to another pool worker; first success wins, the rest are aborted) and the
 * fallback. Retries are not here: they run inside the worker, so the breaker and the fallback see
 * a call's final outcome.
 */
import { CancelledError, TimeoutError, WorkerStoppedError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Settler, Transport, TransportCall } from '../modes/transport.js';
import { summarizeError, type RuntimeEvent } from '../observability/events.js';
import { CircuitBreakers, type CircuitBreaker, type CircuitSnapshot, type CircuitState } from './circuit-breaker.js';
import { DeadlineQueue } from './deadlines.js';
import { resolveTimeouts, type FallbackContext, type FallbackOption, type ResilienceOptions } from './options.js';
import { LastGoodCache } from './last-good.js';

/** The future side of a guarded call (a handle's CallFuture). */
export interface GuardTarget extends Settler {
  readonly done: boolean;
  /** Settles with a fallback value (counted apart from real successes). */
  resolveWithFallback(value: unknown): void;
}

/** Counters the guard keeps per method (part of `handle.stats()`). */
export interface GuardStats {
  timeouts: number;
  circuitRejections: number;
  hedges: number;
  hedgeWins: number;
  fallbacks: number;
  /** Failed calls answered with the last good result (`lastGood`); not counted in `fallbacks`. */
  staleFallbacks: number;
}

/** What `handle.circuit` exposes. */
export interface CircuitView {
  /** State of the handle's breaker ('closed' when there is none), or of the default key's. */
  readonly state: CircuitState;
  /** State of one key's breaker (keyed breakers). */
  stateOf(key: string): CircuitState;
  /** Every breaker's counters. */
  snapshot(): CircuitSnapshot[];
}

const DEFAULT_GRACE_MS = 1000;

type FallbackFn = (error: unknown, ctx: FallbackContext) => unknown;
/** The `fallback` option as the guard applies it: a function to call, or a fixed value. */
type Fallback = { fn: FallbackFn } | { value: unknown };

function toFallback(option: FallbackOption): Fallback {
  // FallbackOption's `{}` branch also admits functions: any function given is called as a FallbackFn.
  return typeof option === 'function' ? { fn: option as FallbackFn } : { value: option };
}

class GuardedCall implements Settler {
  settled = false;
  /** Legs (first send + hedges) still in flight. */
  inFlight = 1;
  hedgesSent = 0;
  /** Whether a deadline / a hedge timer is registered for this call. */
  timed = false;
  hedgeable = false;
  readonly legs: TransportCall[];

  constructor(
    readonly guard: CallGuard,
    readonly call: TransportCall,
    readonly target: GuardTarget,
    readonly stats: GuardStats,
    readonly breaker: CircuitBreaker | undefined,
    readonly probe: boolean,
  ) {
    this.legs = [call];
  }

  get finished(): boolean {
    return this.settled || this.target.done;
  }

  resolve(value: unknown): void {
    this.guard.succeeded(this, value, 0);
  }

  reject(error: unknown): void {
    this.guard.legFailed(this, error);
  }
}

/** The settler of a hedged copy. */
class HedgeLeg implements Settler {
  constructor(
    readonly gc: GuardedCall,
    readonly index: number,
  ) {}

  resolve(value: unknown): void {
    this.gc.guard.succeeded(this.gc, value, this.index);
  }

  reject(error: unknown): void {
    this.gc.guard.legFailed(this.gc, error);
  }
}

export interface GuardInit {
  className: string;
  methods: readonly string[];
  transport: Transport;
  clock: Clock;
  options: ResilienceOptions;
  emit: (event: RuntimeEvent) => void;
  /** A fresh call id for a hedged copy. */
  nextId: () => number;
}

export class CallGuard {
  private readonly transport: Transport;
  private readonly timeoutOf: (method: string) => number | undefined;
  private readonly breakers?: CircuitBreakers;
  private readonly timeouts: DeadlineQueue<GuardedCall>;
  private readonly hedges: DeadlineQueue<GuardedCall>;
  private readonly hedgeAfter: number;
  private readonly maxHedges: number;
  private readonly hedged: ReadonlySet<string>;
  private readonly fallback?: Fallback;
  private readonly lastGood?: LastGoodCache;
  private readonly grace: number;
  private readonly graceTimers = new Set<unknown>();

  constructor(private readonly init: GuardInit) {
    const o = init.options;
    this.transport = init.transport;
    this.timeoutOf = resolveTimeouts(o.timeout, init.methods);
    if (o.circuitBreaker) {
      this.breakers = new CircuitBreakers(o.circuitBreaker, init.clock, (change) => init.emit({ type: 'circuit-state', ...change }));
    }
    const finished = (gc: GuardedCall) => gc.finished;
    this.timeouts = new DeadlineQueue(init.clock, finished, (gc) => this.timedOut(gc));
    this.hedges = new DeadlineQueue(init.clock, finished, (gc) => this.sendHedge(gc));
    this.hedgeAfter = o.hedge?.afterMs ?? 0;
    this.maxHedges = o.hedge?.maxHedges ?? 1;
    this.hedged = new Set(o.hedge?.methods ?? []);
    if ('fallback' in o && o.fallback !== undefined) this.fallback = toFallback(o.fallback);
    if (o.lastGood !== undefined) this.lastGood = new LastGoodCache(o.lastGood, init.clock);
    this.grace = o.timeoutGrace ?? DEFAULT_GRACE_MS;
  }

  /** Sends a call through the breaker, with its deadline and hedge timer. */
  send(call: TransportCall, target: GuardTarget, stats: GuardStats): GuardedCall {
    let breaker: CircuitBreaker | undefined;
    let probe = false;
    if (this.breakers) {
      breaker = this.breakers.for(call.method, call.args);
      const admission = breaker.admit();
      if ('probe' in admission) probe = admission.probe;
      else {
        const gc = new GuardedCall(this, call, target, stats, undefined, false);
        stats.circuitRejections++;
        this.init.emit({ type: 'circuit-rejected', methodName: call.method, key: breaker.key });
        gc.inFlight = 0;
        this.fail(gc, admission, false);
        return gc;
      }
    }
    const gc = new GuardedCall(this, call, target, stats, breaker, probe);
    const timeout = this.timeoutOf(call.method);
    if (timeout !== undefined) {
      gc.timed = true;
      this.timeouts.add(timeout, gc);
    }
    if (this.hedged.has(call.method)) {
      gc.hedgeable = true;
      this.hedges.add(this.hedgeAfter, gc);
    }
    this.transport.send(call, gc);
    return gc;
  }

  /** `future.cancel()`: drops or aborts every leg. Returns true when the first leg was dropped before it ran. */
  cancel(gc: GuardedCall): boolean {
    if (gc.settled) return false;
    let dropped = false;
    for (const leg of gc.legs) dropped = this.transport.cancel(leg) || dropped;
    this.finish(gc);
    gc.breaker?.record(new CancelledError('Call was cancelled'), true, gc.probe);
    return dropped;
  }

  get circuit(): CircuitView {
    const breakers = this.breakers;
    return {
      get state() {
        return breakers?.state() ?? 'closed';
      },
      stateOf: (key) => breakers?.state(key) ?? 'closed',
      snapshot: () => breakers?.snapshot() ?? [],
    };
  }

  /** stop(): timers go; calls still pending are settled by the handle. */
  dispose(): void {
    this.timeouts.dispose();
    this.hedges.dispose();
    for (const t of this.graceTimers) this.init.clock.clearTimeout(t);
    this.graceTimers.clear();
  }

  /** @internal one leg succeeded: it wins, the others are aborted. */
  succeeded(gc: GuardedCall, value: unknown, legIndex: number): void {
    gc.inFlight--;
    if (gc.settled) return;
    this.finish(gc);
    this.abortOtherLegs(gc, legIndex);
    gc.breaker?.record(undefined, false, gc.probe);
    this.lastGood?.record(gc.call.method, gc.call.args, value);
    if (legIndex > 0) {
      gc.stats.hedgeWins++;
      this.init.emit({ type: 'hedge-win', methodName: gc.call.method, hedge: legIndex });
    }
    gc.target.resolve(value);
  }

  /** @internal one leg failed: the call fails when no other leg is still running. */
  legFailed(gc: GuardedCall, error: unknown): void {
    gc.inFlight--;
    if (gc.settled || gc.inFlight > 0) return;
    this.fail(gc, error, true);
  }

  private fail(gc: GuardedCall, error: unknown, record: boolean): void {
    this.finish(gc);
    if (record) gc.breaker?.record(error, true, gc.probe);
    if ((!this.fallback && !this.lastGood) || error instanceof CancelledError || error instanceof WorkerStoppedError || gc.target.done) {
      gc.target.reject(error);
      return;
    }
    const fallback = this.fallback;
    if (!fallback || !('fn' in fallback)) {
      // The last good result beats a fixed default; without either the error stands.
      if (this.serveLastGood(gc, error)) return;
      if (!fallback) return gc.target.reject(error);
    }
    let value: unknown;
    try {
      value = 'fn' in fallback ? fallback.fn(error, { methodName: gc.call.method, args: gc.call.args }) : fallback.value;
    } catch (fallbackError) {
      if (!this.serveLastGood(gc, fallbackError)) gc.target.reject(fallbackError);
      return;
    }
    gc.stats.fallbacks++;
    this.init.emit({ type: 'fallback', methodName: gc.call.method, error: summarizeError(error) });
    if (value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function') {
      (value as PromiseLike<unknown>).then(
        (v) => gc.target.resolveWithFallback(v),
        (e) => {
          if (!this.serveLastGood(gc, e)) gc.target.reject(e);
        },
      );
    } else {
      gc.target.resolveWithFallback(value);
    }
  }

  /** Settles the call with the last good result for its key, if fresh (marked stale in stats and the event). */
  private serveLastGood(gc: GuardedCall, error: unknown): boolean {
    const hit = this.lastGood?.lookup(gc.call.method, gc.call.args);
    if (!hit) return false;
    gc.stats.staleFallbacks++;
    this.init.emit({ type: 'fallback', methodName: gc.call.method, error: summarizeError(error), stale: true, ageMs: hit.ageMs });
    gc.target.resolveWithFallback(hit.value);
    return true;
  }


  private finish(gc: GuardedCall): void {
    if (gc.settled) return;
    gc.settled = true;
    if (gc.timed) this.timeouts.settled();
    if (gc.hedgeable) this.hedges.settled();
  }

  private abortOtherLegs(gc: GuardedCall, winner: number): void {
    for (let i = 0; i < gc.legs.length; i++) if (i !== winner) this.transport.cancel(gc.legs[i]);
  }

  private timedOut(gc: GuardedCall): void {
    if (gc.finished) return;
    const method = gc.call.method;
    const ms = this.timeoutOf(method)!;
    gc.stats.timeouts++;
    this.init.emit({ type: 'timeout', methodName: method, timeoutMs: ms });
    for (const leg of gc.legs) {
      if (!this.transport.cancel(leg)) this.watchForIgnoredAbort(leg, method, ms);
    }
    this.fail(gc, new TimeoutError(`${this.init.className}.${method} timed out after ${ms} ms`), true);
  }

  /** A running call was asked to abort; if it is still running after the grace period, its worker goes. */
  private watchForIgnoredAbort(leg: TransportCall, method: string, timeoutMs: number): void {
    const transport = this.transport;
    if (!transport.terminate || !transport.isInFlight) return;
    const timer = this.init.clock.setTimeout(() => {
      this.graceTimers.delete(timer);
      if (!transport.isInFlight!(leg)) return;
      const reason = `${this.init.className}.${method} kept running ${this.grace} ms after its ${timeoutMs} ms timeout aborted its signal`;
      this.init.emit({ type: 'worker-terminated', methodName: method, reason });
      transport.terminate!(leg, reason);
    }, this.grace);
    this.graceTimers.add(timer);
  }

  private sendHedge(gc: GuardedCall): void {
    if (gc.finished || gc.hedgesSent >= this.maxHedges || !this.transport.sendElsewhere) return;
    const id = this.init.nextId();
    const index = gc.legs.length;
    const leg: TransportCall = { id, method: gc.call.method, args: gc.call.args };
    const sent = this.transport.sendElsewhere(leg, new HedgeLeg(gc, index), gc.legs);
    if (sent) {
      gc.legs.push(leg);
      gc.inFlight++;
      gc.hedgesSent++;
      gc.stats.hedges++;
      this.init.emit({ type: 'hedge', methodName: gc.call.method, hedge: index });
    }
    // Another copy later, if allowed: re-arm as a fresh deadline for this call.
    if (gc.hedgesSent < this.maxHedges) {
      this.hedges.settled();
      this.hedges.add(this.hedgeAfter, gc);
    }
  }
}
