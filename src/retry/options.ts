/**
 * Retry options as users give them (per method or for all methods) and the normalized policy the
 * engine runs. All checking happens here, at `options()` time.
 */
import { ConfigError } from '../errors.js';
import { configError, nearest } from '../config/validate.js';
import { matchesClass } from '../classify.js';
import { resolveJitter, type JitterStyle } from './jitter.js';
import { checkAdaptiveRetry, type AdaptiveRetryOptions } from './adaptive.js';

/**
 * A value for every method, or a per-method record: `'*'` (optional) is the default for methods
 * not named; without it they get the option's default. `M` names the methods (any string when unknown).
 */
export type PerMethod<T, M extends string = string> = T | ({ '*'?: T } & { [K in M]?: T });

/** The public method names of a worker instance type `W` (any string when `W` is not known). */
export type MethodName<W> = unknown extends W
  ? string
  : { [K in keyof W]: K extends `_${string}` | 'constructor' ? never : K extends string ? (W[K] extends (...args: never[]) => unknown ? K : never) : never }[keyof W];

/** What a method of `W` resolves to, by name (`unknown` when `W` is not known). */
type MethodResult<W, K> = unknown extends W ? unknown : K extends keyof W ? (W[K] extends (...args: never[]) => infer R ? Awaited<R> : never) : never;

/** `retryUntil` of a worker of type `W`: validators typed by each method's result. */
export type RetryUntilOption<W = unknown> =
  | Validator<MethodResult<W, MethodName<W>>>
  | Validator<MethodResult<W, MethodName<W>>>[]
  | ({ '*'?: Validator<MethodResult<W, MethodName<W>>> | Validator<MethodResult<W, MethodName<W>>>[] } & {
      [K in MethodName<W>]?: Validator<MethodResult<W, K>> | Validator<MethodResult<W, K>>[];
    });

/** What predicates, validators and the method itself know about the attempt. */
export interface RetryContext {
  /** 1-based attempt number. */
  attempt: number;
  /** ms since the first attempt started. */
  elapsedMs: number;
  methodName: string;
  args: unknown[];
  workerClass: string;
  signal?: AbortSignal;
  /** The error the attempt threw (in retryOn predicates). */
  error?: unknown;
  /** The attempt's output (in validators). */
  result?: unknown;
  /** Why earlier outputs were rejected, in order — feed it back into the next attempt. */
  validationErrors: string[];
}

export type RetryPredicate = (ctx: RetryContext) => boolean;
type ErrorClass = abstract new (...args: never[]) => Error;
export type RetryOnOption = ErrorClass | RetryPredicate | Array<ErrorClass | RetryPredicate>;

/**
 * true = accept; false or a string (the reason) = reject. May be async. `R` is the result type it
 * checks; a validator written for a narrower type is still accepted (checked bivariantly, like a method).
 */
export type Validator<R = unknown> = { check(result: R, ctx: RetryContext): boolean | string | Promise<boolean | string> }['check'];

export type RetryAlgorithm = 'exponential' | 'linear' | 'fibonacci' | 'constant' | 'decorrelated';
export const RETRY_ALGORITHMS: readonly RetryAlgorithm[] = ['exponential', 'linear', 'fibonacci', 'constant', 'decorrelated'];

/** Retry options for one function (standalone `retry()`), all ms. */
export interface RetryOptions {
  numRetries?: number;
  retryOn?: RetryOnOption;
  retryAlgorithm?: RetryAlgorithm;
  retryWait?: number;
  retryMaxWait?: number;
  /** Fraction of the wait randomized (0–1), or a named style: 'full' (1), 'equal' (0.5), 'none' (0), 'decorrelated' (the decorrelated algorithm). */
  retryJitter?: number | JitterStyle;
  retryUntil?: Validator | Validator[];
  retryTimeout?: number;
}

/** Retry budget: retries may be at most `ratio` of calls, plus `minPerSecond`. */
export interface RetryBudgetOptions {
  ratio: number;
  minPerSecond?: number;
  /** Fewer retries and longer waits while the recent success rate is low (see docs/adaptive.md). */
  adaptive?: AdaptiveRetryOptions;
}

/** Retry options of a worker (of instance type `W`, when known): each may be per method. */
export interface WorkerRetryOptions<W = unknown> {
  numRetries?: PerMethod<number, MethodName<W>>;
  retryOn?: PerMethod<RetryOnOption, MethodName<W>>;
  retryAlgorithm?: PerMethod<RetryAlgorithm, MethodName<W>>;
  retryWait?: PerMethod<number, MethodName<W>>;
  retryMaxWait?: PerMethod<number, MethodName<W>>;
  retryJitter?: PerMethod<number | JitterStyle, MethodName<W>>;
  retryUntil?: RetryUntilOption<W>;
  retryTimeout?: PerMethod<number, MethodName<W>>;
  retryBudget?: RetryBudgetOptions;
}

/** The normalized, checked settings the engine runs with. */
export interface RetryPolicy {
  readonly numRetries: number;
  readonly retryOn: readonly RetryPredicate[] | undefined;
  readonly algorithm: RetryAlgorithm;
  readonly wait: number;
  readonly maxWait: number;
  readonly jitter: number;
  readonly validators: readonly Validator[];
  readonly timeout: number | undefined;
}

export const RETRY_DEFAULTS = { numRetries: 0, retryAlgorithm: 'exponential', retryWait: 1000, retryMaxWait: 60_000, retryJitter: 1 } as const;

const PER_METHOD_KEYS = ['numRetries', 'retryOn', 'retryAlgorithm', 'retryWait', 'retryMaxWait', 'retryJitter', 'retryUntil', 'retryTimeout'] as const;

function isPerMethodRecord(option: string, value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  // retryOn/retryUntil values are functions/classes/arrays, never plain objects: a plain object is a per-method record.
  return Object.getPrototypeOf(value) === Object.prototype || option === 'retryBudget';
}

function checkNonNegInt(option: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw configError(option, v, 'an integer >= 0');
  return v;
}

function checkMs(option: string, v: unknown, allowZero = true): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowZero && v === 0) || v === Infinity) {
    throw configError(option, v, `a finite number of ms ${allowZero ? '>= 0' : '> 0'}`);
  }
  return v;
}

function isErrorClass(v: unknown): v is ErrorClass {
  return typeof v === 'function' && (v === Error || v.prototype instanceof Error);
}

function toPredicates(option: string, value: unknown): RetryPredicate[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw configError(option, value, 'an error class, a predicate (ctx) => boolean, or a non-empty array of them');
  return items.map((item) => {
    if (isErrorClass(item)) return (ctx: RetryContext) => matchesClass(ctx.error, item);
    if (typeof item === 'function') return item as RetryPredicate;
    throw configError(option, item, 'an error class, a predicate (ctx) => boolean, or an array of them');
  });
}

function toValidators(option: string, value: unknown): Validator[] {
  const items = Array.isArray(value) ? value : [value];
  for (const v of items) if (typeof v !== 'function') throw configError(option, v, 'a validator (result, ctx) => boolean | string, or an array of them');
  return items as Validator[];
}

function buildPolicy(pick: (key: (typeof PER_METHOD_KEYS)[number]) => unknown): RetryPolicy {
  const numRetries = checkNonNegInt('numRetries', pick('numRetries') ?? RETRY_DEFAULTS.numRetries);
  const givenAlgorithm = (pick('retryAlgorithm') ?? RETRY_DEFAULTS.retryAlgorithm) as RetryAlgorithm;
  if (!RETRY_ALGORITHMS.includes(givenAlgorithm)) {
    throw configError('retryAlgorithm', givenAlgorithm, `one of ${RETRY_ALGORITHMS.map((a) => `'${a}'`).join(', ')}`);
  }
  const wait = checkMs('retryWait', pick('retryWait') ?? RETRY_DEFAULTS.retryWait);
  const maxWait = checkMs('retryMaxWait', pick('retryMaxWait') ?? RETRY_DEFAULTS.retryMaxWait);
  const { jitter, algorithm } = resolveJitter(pick('retryJitter') ?? RETRY_DEFAULTS.retryJitter, givenAlgorithm, pick('retryAlgorithm') !== undefined);
  const timeoutRaw = pick('retryTimeout');
  const timeout = timeoutRaw === undefined ? undefined : checkMs('retryTimeout', timeoutRaw, false);
  const retryOn = pick('retryOn') === undefined ? undefined : toPredicates('retryOn', pick('retryOn'));
  const untilRaw = pick('retryUntil');
  const validators = untilRaw === undefined ? [] : toValidators('retryUntil', untilRaw);
  return Object.freeze({ numRetries, retryOn, algorithm, wait, maxWait, jitter, validators, timeout });
}

/** Checks standalone retry options and returns the policy. */
export function resolveRetryPolicy(options: RetryOptions): RetryPolicy {
  return buildPolicy((k) => (options as Record<string, unknown>)[k]);
}

/**
 * Checks a worker's retry options (ConfigError naming the option, value and what is allowed;
 * unknown method names in per-method records suggest the nearest) and returns a lookup by method.
 * A method with nothing to do (no retries, no validators) maps to undefined, so its calls keep the
 * fast path.
 */
export function resolveRetryPolicies(options: WorkerRetryOptions, methodNames: readonly string[]): (methodName: string) => RetryPolicy | undefined {
  const records = new Map<string, Record<string, unknown>>();
  for (const key of PER_METHOD_KEYS) {
    const value = (options as Record<string, unknown>)[key];
    if (!isPerMethodRecord(key, value)) continue;
    for (const name of Object.keys(value)) {
      if (name === '*' || methodNames.includes(name)) continue;
      const hint = nearest(name, methodNames);
      throw new ConfigError(
        `Invalid option '${key}': unknown method '${name}'${hint ? ` — did you mean '${hint}'?` : ''}; methods: ${methodNames.join(', ') || '(none)'}`,
      );
    }
    records.set(key, value);
  }
  if (options.retryBudget !== undefined) checkBudget(options.retryBudget);
  const pickFor = (method: string) => (key: (typeof PER_METHOD_KEYS)[number]) => {
    const record = records.get(key);
    if (!record) return (options as Record<string, unknown>)[key];
    // Methods not named take '*', or the option's default when the record has no '*'.
    return method in record ? record[method] : record['*'];
  };
  const policies = new Map<string, RetryPolicy | undefined>();
  const defaultPolicy = buildPolicy(pickFor('*'));
  for (const name of methodNames) {
    const p = buildPolicy(pickFor(name));
    policies.set(name, p.numRetries === 0 && p.validators.length === 0 ? undefined : p);
  }
  const fallback = defaultPolicy.numRetries === 0 && defaultPolicy.validators.length === 0 ? undefined : defaultPolicy;
  return (methodName) => (policies.has(methodName) ? policies.get(methodName) : fallback);
}

export function checkBudget(budget: unknown): RetryBudgetOptions {
  if (budget === null || typeof budget !== 'object') throw configError('retryBudget', budget, '{ ratio, minPerSecond?, adaptive? }');
  const { ratio, minPerSecond, adaptive } = budget as RetryBudgetOptions;
  if (adaptive !== undefined) checkAdaptiveRetry(adaptive);
  if (typeof ratio !== 'number' || !(ratio >= 0)) throw configError('retryBudget.ratio', ratio, 'a number >= 0');
  if (minPerSecond !== undefined && (typeof minPerSecond !== 'number' || !(minPerSecond >= 0))) {
    throw configError('retryBudget.minPerSecond', minPerSecond, 'a number >= 0');
  }
  return budget as RetryBudgetOptions;
}
