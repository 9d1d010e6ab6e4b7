/**
 * A three-state circuit breaker, checked on the caller's side before a call is sent: while it is
 * open, calls fail at once with CircuitOpenError and no message reaches a worker.
 *
 * closed ──(threshold reached)──▶ open ──(recoveryTimeout)──▶ half-open
 *   ▲                                ▲                            │
 *   └────────(a probe succeeds)──────┼──────(a probe fails)───────┘
 *
 * Two ways to trip, either or both: `failureThreshold` consecutive failures, or a failure ratio of
 * at least `failureRateThreshold` over the last `windowMs` once `minimumThroughput` calls finished
 * in that window. Time comes from an injectable clock, so tests drive it without sleeping.
 */
import { CancelledError, CircuitOpenError, RetryValidationError, WorkerStoppedError } from '../errors.js';
import type { Clock } from '../clock.js';
import { statusOf } from '../classify.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of the `circuitBreaker` worker option. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5 (when no rate mode is given). */
  failureThreshold?: number;
  /** How long the circuit stays open before probes are let through, ms. Default 30000. */
  recoveryTimeout?: number;
  /** Probes allowed at once while half-open. Default 1. */
  halfOpenMaxCalls?: number;
  /** Failure ratio in (0, 1] over `windowMs` that opens the circuit. Off unless given. */
  failureRateThreshold?: number;
  /** The sliding window of the ratio mode, ms. Default 60000. */
  windowMs?: number;
  /** Calls that must finish within the window before the ratio counts. Default 10. */
  minimumThroughput?: number;
  /**
   * Which errors count as failures. Default: everything except validation failures
   * (RetryValidationError), 4xx statuses, cancellations and stops — those say nothing about the
   * health of what is behind the worker.
   */
  isFailure?: (error: unknown) => boolean;
  /** One breaker per key (e.g. per provider or account); default: one for the whole handle. */
  key?: (methodName: string, args: readonly unknown[]) => string;
}

/** What `handle.circuit` reports for one breaker. */
export interface CircuitSnapshot {
  key: string;
  state: CircuitState;
  consecutiveFailures: number;
  /** Calls and failures inside the ratio window (ratio mode). */
  windowCalls: number;
  windowFailures: number;
  /** When an open circuit lets probes through next (clock time, ms). */
  reopensAt?: number;
  /** Times the circuit opened. */
  opened: number;
}

export interface StateChange {
  key: string;
  from: CircuitState;
  to: CircuitState;
}

export const defaultIsFailure = (error: unknown): boolean => {
  if (error instanceof RetryValidationError || error instanceof CancelledError || error instanceof WorkerStoppedError) return false;
  const status = statusOf(error);
  return !(typeof status === 'number' && status >= 400 && status < 500);
};

interface ResolvedBreakerOptions {
  failureThreshold: number;
  recoveryTimeout: number;
  halfOpenMaxCalls: number;
  failureRateThreshold?: number;
  windowMs: number;
  minimumThroughput: number;
  isFailure: (error: unknown) => boolean;
}

/** Outcome buckets of the ratio window: one per 1/10 of the window, so memory is constant. */
const BUCKETS = 10;

export class CircuitBreaker {
  private stateValue: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private openedCount = 0;
  private probesInFlight = 0;
  private readonly calls = new Array<number>(BUCKETS).fill(0);
  private readonly failures = new Array<number>(BUCKETS).fill(0);
  private bucketEpoch = -1;

  constructor(
    readonly key: string,
    private readonly o: ResolvedBreakerOptions,
    private readonly clock: Clock,
    private readonly onChange: (change: StateChange) => void,
  ) {}

  get state(): CircuitState {
    this.refresh();
    return this.stateValue;
  }

  /**
   * Admits a call or returns the error to fail it with. A half-open admission is a probe: the
   * caller must report its outcome through {@link record} with `probe = true`.
   */
  admit(): { probe: boolean } | CircuitOpenError {
    this.refresh();
    if (this.stateValue === 'closed') return NOT_PROBE;
    if (this.stateValue === 'half-open' && this.probesInFlight < this.o.halfOpenMaxCalls) {
      this.probesInFlight++;
      return PROBE;
    }
    const retryInMs = Math.max(0, this.openedAt + this.o.recoveryTimeout - this.clock.now());
    const error = new CircuitOpenError(
      this.stateValue === 'open'
        ? `Circuit '${this.key}' is open after ${this.describeTrip()}; next probe in ${Math.ceil(retryInMs)} ms`
        : `Circuit '${this.key}' is half-open and its ${this.o.halfOpenMaxCalls} probe call(s) are in flight`,
    );
    (error as CircuitOpenError & { retryAfterMs?: number }).retryAfterMs = retryInMs;
    return error;
  }

  /** Reports a finished call. `error` undefined = success. */
  record(error: unknown, failed: boolean, probe: boolean): void {
    if (probe) this.probesInFlight--;
    const counts = failed && this.o.isFailure(error);
    if (failed && !counts) return; // neutral outcome (a 4xx, a rejected output): says nothing about health
    this.refresh();
    this.countInWindow(counts);
    if (this.stateValue === 'half-open') {
      if (!probe) return;
      if (counts) this.open();
      else if (!failed) this.transition('closed');
      return;
    }
    if (this.stateValue === 'open') return;
    if (!counts) {
      this.consecutiveFailures = 0;
      return;
    }
    this.consecutiveFailures++;
    if (this.shouldTrip()) this.open();
  }

  snapshot(): CircuitSnapshot {
    this.refresh();
    this.rollWindow();
    const snap: CircuitSnapshot = {
      key: this.key,
      state: this.stateValue,
      consecutiveFailures: this.consecutiveFailures,
      windowCalls: sum(this.calls),
      windowFailures: sum(this.failures),
      opened: this.openedCount,
    };
    if (this.stateValue === 'open') snap.reopensAt = this.openedAt + this.o.recoveryTimeout;
    return snap;
  }

  private shouldTrip(): boolean {
    if (this.consecutiveFailures >= this.o.failureThreshold) return true;
    if (this.o.failureRateThreshold === undefined) return false;
    const calls = sum(this.calls);
    return calls >= this.o.minimumThroughput && sum(this.failures) / calls >= this.o.failureRateThreshold;
  }

  private describeTrip(): string {
    return this.consecutiveFailures >= this.o.failureThreshold
      ? `${this.consecutiveFailures} consecutive failures`
      : `a failure rate of at least ${this.o.failureRateThreshold} over ${this.o.windowMs} ms`;
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.openedCount++;
    this.transition('open');
  }

  /** open → half-open happens on the first look after recoveryTimeout: no timer to leak. */
  private refresh(): void {
    if (this.stateValue === 'open' && this.clock.now() - this.openedAt >= this.o.recoveryTimeout) {
      this.probesInFlight = 0;
      this.transition('half-open');
    }
  }

  private transition(to: CircuitState): void {
    const from = this.stateValue;
    if (from === to) return;
    this.stateValue = to;
    if (to === 'closed') {
      this.consecutiveFailures = 0;
      this.calls.fill(0);
      this.failures.fill(0);
    }
    this.onChange({ key: this.key, from, to });
  }

  private countInWindow(failed: boolean): void {
    if (this.o.failureRateThreshold === undefined) return;
    const i = this.rollWindow();
    this.calls[i]++;
    if (failed) this.failures[i]++;
  }

  /** Clears buckets that slid out of the window; returns the current bucket's index. */
  private rollWindow(): number {
    const width = this.o.windowMs / BUCKETS;
    const epoch = Math.floor(this.clock.now() / width);
    if (this.bucketEpoch < 0 || epoch - this.bucketEpoch >= BUCKETS) {
      this.calls.fill(0);
      this.failures.fill(0);
    } else {
      for (let e = this.bucketEpoch + 1; e <= epoch; e++) {
        this.calls[e % BUCKETS] = 0;
        this.failures[e % BUCKETS] = 0;
      }
    }
    this.bucketEpoch = Math.max(this.bucketEpoch, epoch);
    return epoch % BUCKETS;
  }
}

const PROBE = Object.freeze({ probe: true });
const NOT_PROBE = Object.freeze({ probe: false });

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** The breakers of one handle: one, or one per key. */
export class CircuitBreakers {
  private readonly byKey = new Map<string, CircuitBreaker>();
  private readonly resolved: ResolvedBreakerOptions;
  private readonly keyOf?: (methodName: string, args: readonly unknown[]) => string;

  constructor(
    options: CircuitBreakerOptions,
    private readonly clock: Clock,
    private readonly onChange: (change: StateChange) => void,
  ) {
    this.keyOf = options.key;
    this.resolved = {
      failureThreshold: options.failureThreshold ?? (options.failureRateThreshold !== undefined ? Infinity : 5),
      recoveryTimeout: options.recoveryTimeout ?? 30_000,
      halfOpenMaxCalls: options.halfOpenMaxCalls ?? 1,
      windowMs: options.windowMs ?? 60_000,
      minimumThroughput: options.minimumThroughput ?? 10,
      isFailure: options.isFailure ?? defaultIsFailure,
      ...(options.failureRateThreshold !== undefined ? { failureRateThreshold: options.failureRateThreshold } : {}),
    };
  }

  /** The breaker a call goes through. */
  for(methodName: string, args: readonly unknown[]): CircuitBreaker {
    const key = this.keyOf ? String(this.keyOf(methodName, args)) : 'default';
    let breaker = this.byKey.get(key);
    if (!breaker) this.byKey.set(key, (breaker = new CircuitBreaker(key, this.resolved, this.clock, this.onChange)));
    return breaker;
  }

  /** State of the default breaker, or of `key`'s. A key never used is closed. */
  state(key = 'default'): CircuitState {
    return this.byKey.get(key)?.state ?? 'closed';
  }

  snapshot(): CircuitSnapshot[] {
    return [...this.byKey.values()].map((b) => b.snapshot());
  }
}
