/**
 * The resilience options of a worker — `timeout`, `timeoutGrace`, `circuitBreaker`, `hedge`,
 * `fallback`, `chaos`, `lastGood` — with their checks, listed in the worker option table
 * (src/worker/option-table.ts), so `Worker.options()` rejects bad values with a ConfigError before
 * any worker exists.
 */
import type { OptionChecks } from '../config/options.js';
import { checkInteger, checkNumber, configError, rejectUnknownKeys } from '../config/validate.js';
import { ConfigError } from '../errors.js';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import type { ChaosOptions } from '../runtime/chaos.js';
import { checkLastGood, type LastGoodOptions } from './last-good.js';

/** A per-call timeout in ms, for every method or per method (with a required `'*'`). */
export type TimeoutOption = number | ({ '*': number | null } & Record<string, number | null>);

/** Options of the `hedge` worker option (pools only). */
export interface HedgeOptions {
  /** Send a copy of a call to another worker when it has not finished after this many ms. */
  afterMs: number;
  /** Copies at most, beyond the first send. Default 1. */
  maxHedges?: number;
  /** The idempotent methods that may be hedged: running them twice must be harmless. */
  methods: string[];
}

/** A value to return instead of a final failure, or a function computing one from the error. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type FallbackOption = ((error: unknown, ctx: FallbackContext) => unknown) | {} | null;

export interface FallbackContext {
  methodName: string;
  args: readonly unknown[];
}

/** The resilience part of the worker options. */
export interface ResilienceOptions {
  /**
   * Per-call deadline, ms, counted from the moment the call is sent (time queued behind other
   * calls counts). On expiry the method's AbortSignal aborts and the future rejects with
   * TimeoutError. A number, or a per-method record with a required `'*'` (`null` = no timeout).
   */
  timeout?: TimeoutOption;
  /**
   * Thread/process modes: how long a timed-out method may keep running after its signal aborted
   * before its worker is terminated and replaced, ms. Default 1000.
   */
  timeoutGrace?: number;
  /** A three-state circuit breaker in front of the workers (see docs/resilience.md). */
  circuitBreaker?: CircuitBreakerOptions;
  /** Hedged requests for idempotent methods of a pool. */
  hedge?: HedgeOptions;
  /**
   * Used when a call finally fails (after retries, timeouts, an open circuit): a value, or
   * `(error, { methodName, args }) => value` (a function is always called, never returned).
   * Cancellation and stop() are never replaced.
   */
  fallback?: FallbackOption;
  /** Fault injection for tests: seeded errors, latency and invalid outputs inside the worker. */
  chaos?: ChaosOptions;
  /**
   * When a call and any fallback function failed: the last successful result for the same key,
   * if younger than `ttl` ms (marked stale: `fallback` event with `stale: true`, `staleFallbacks`).
   */
  lastGood?: LastGoodOptions;
}

function checkTimeout(value: unknown): unknown {
  if (typeof value === 'number') return checkNumber('timeout', value, Number.MIN_VALUE);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError('timeout', value, "a number of ms > 0, or a per-method record like { '*': 30000, slowMethod: 120000 }");
  }
  const record = value as Record<string, unknown>;
  if (!('*' in record)) throw new ConfigError(`Invalid option 'timeout': a per-method record needs a '*' entry (use null for "no timeout")`);
  for (const [method, ms] of Object.entries(record)) {
    if (ms !== null) checkNumber(`timeout.${method}`, ms, Number.MIN_VALUE);
  }
  return value;
}

function checkBreaker(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError('circuitBreaker', value, '{ failureThreshold, recoveryTimeout, halfOpenMaxCalls, … }');
  }
  const o = value as Record<string, unknown>;
  rejectUnknownKeys('circuitBreaker option', o, [
    'failureThreshold',
    'recoveryTimeout',
    'halfOpenMaxCalls',
    'failureRateThreshold',
    'windowMs',
    'minimumThroughput',
    'isFailure',
    'key',
  ]);
  if (o.failureThreshold !== undefined) checkInteger('circuitBreaker.failureThreshold', o.failureThreshold, 1);
  if (o.recoveryTimeout !== undefined) checkNumber('circuitBreaker.recoveryTimeout', o.recoveryTimeout, 0);
  if (o.halfOpenMaxCalls !== undefined) checkInteger('circuitBreaker.halfOpenMaxCalls', o.halfOpenMaxCalls, 1);
  if (o.failureRateThreshold !== undefined) {
    const r = checkNumber('circuitBreaker.failureRateThreshold', o.failureRateThreshold, 0, 1);
    if (r === 0) throw configError('circuitBreaker.failureRateThreshold', r, 'a ratio in (0, 1]');
  }
  if (o.windowMs !== undefined) checkNumber('circuitBreaker.windowMs', o.windowMs, 1);
  if (o.minimumThroughput !== undefined) checkInteger('circuitBreaker.minimumThroughput', o.minimumThroughput, 1);
  for (const fn of ['isFailure', 'key'] as const) {
    if (o[fn] !== undefined && typeof o[fn] !== 'function') throw configError(`circuitBreaker.${fn}`, o[fn], 'a function');
  }
  return value;
}

function checkHedge(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError('hedge', value, "{ afterMs, maxHedges?, methods: ['idempotentMethod'] }");
  }
  const o = value as Record<string, unknown>;
  rejectUnknownKeys('hedge option', o, ['afterMs', 'maxHedges', 'methods']);
  checkNumber('hedge.afterMs', o.afterMs, 0);
  if (o.maxHedges !== undefined) checkInteger('hedge.maxHedges', o.maxHedges, 1, 16);
  if (!Array.isArray(o.methods) || o.methods.length === 0 || !o.methods.every((m) => typeof m === 'string')) {
    throw configError('hedge.methods', o.methods, 'a non-empty array of the names of idempotent methods (hedging runs a call twice)');
  }
  return value;
}

function checkFallback(value: unknown): unknown {
  return value;
}

function checkChaos(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError('chaos', value, '{ seed?, errorRate?, latencyRate?, latencyMs?, invalidRate?, invalidValue?, methods? }');
  }
  const o = value as Record<string, unknown>;
  rejectUnknownKeys('chaos option', o, ['seed', 'errorRate', 'errorStatus', 'errorMessage', 'latencyRate', 'latencyMs', 'invalidRate', 'invalidValue', 'methods']);
  for (const rate of ['errorRate', 'latencyRate', 'invalidRate'] as const) {
    if (o[rate] !== undefined) checkNumber(`chaos.${rate}`, o[rate], 0, 1);
  }
  if (o.seed !== undefined) checkInteger('chaos.seed', o.seed, 0);
  if (o.errorStatus !== undefined) checkInteger('chaos.errorStatus', o.errorStatus, 100, 599);
  if (o.errorMessage !== undefined && typeof o.errorMessage !== 'string') throw configError('chaos.errorMessage', o.errorMessage, 'a string');
  if (o.latencyMs !== undefined) {
    const l = o.latencyMs;
    const ok =
      (typeof l === 'number' && l >= 0) ||
      (Array.isArray(l) && l.length === 2 && l.every((x) => typeof x === 'number' && x >= 0) && (l[0] as number) <= (l[1] as number));
    if (!ok) throw configError('chaos.latencyMs', l, 'ms ≥ 0, or a [min, max] range');
  }
  if (o.methods !== undefined && (!Array.isArray(o.methods) || !o.methods.every((m) => typeof m === 'string'))) {
    throw configError('chaos.methods', o.methods, 'an array of method names');
  }
  try {
    structuredClone(o.invalidValue);
  } catch {
    throw configError('chaos.invalidValue', o.invalidValue, 'a cloneable value (it travels to thread/process workers)');
  }
  return value;
}

/** Checks of {@link ResilienceOptions}, in the order error messages list them. */
export const RESILIENCE_OPTION_CHECKS = {
  lastGood: checkLastGood,
  timeout: checkTimeout,
  timeoutGrace: (v: unknown) => checkNumber('timeoutGrace', v, 0),
  circuitBreaker: checkBreaker,
  hedge: checkHedge,
  fallback: checkFallback,
  chaos: checkChaos,
} as const satisfies OptionChecks & Record<keyof ResilienceOptions, unknown>;

/** Checks method names against the class and returns `method → timeout ms (undefined = none)`. */
export function resolveTimeouts(option: TimeoutOption | undefined, methods: readonly string[]): (method: string) => number | undefined {
  if (option === undefined) return () => undefined;
  if (typeof option === 'number') return () => option;
  for (const name of Object.keys(option)) {
    if (name !== '*' && !methods.includes(name)) {
      throw new ConfigError(`Invalid option 'timeout': the class has no public method '${name}'; its methods are: ${methods.join(', ') || '(none)'}`);
    }
  }
  const table = new Map<string, number | undefined>();
  for (const m of methods) {
    const v = m in option ? option[m] : option['*'];
    table.set(m, v ?? undefined);
  }
  return (m) => table.get(m);
}

export function checkHedgeMethods(hedge: HedgeOptions | undefined, methods: readonly string[], maxWorkers: number): void {
  if (!hedge) return;
  if (maxWorkers < 2) throw new ConfigError(`Option 'hedge' needs a pool to send copies to: set maxWorkers ≥ 2 (got ${maxWorkers})`);
  for (const name of hedge.methods) {
    if (!methods.includes(name)) {
      throw new ConfigError(`Invalid option 'hedge.methods': the class has no public method '${name}'; its methods are: ${methods.join(', ') || '(none)'}`);
    }
  }
}
