/** The retry engine outside workers: `retry(fn, options)` and the `@retry(options)` method decorator. */
import type { Clock, RandomSource } from '../clock.js';
import type { RetryBudgetClient } from './budget.js';
import { executeWithRetry, type RetryEvent } from './engine.js';
import { resolveRetryPolicy, type RetryOptions } from './options.js';
import { checkClock, checkOptionsArgument, checkRandom, configError, rejectUnknownKeys } from '../config/validate.js';
import { RETRY_OPTION_NAMES } from '../config/options.js';

/** Options of `retry()`: the retry options plus injected time, randomness, abort, events and budget. */
export interface StandaloneRetryOptions extends RetryOptions {
  clock?: Clock;
  random?: RandomSource;
  signal?: AbortSignal;
  onEvent?: (event: RetryEvent) => void;
  budget?: RetryBudgetClient;
}

/** Any function: its parameters and result are carried through to the wrapper's type. */
type AnyFn = (...args: never[]) => unknown;

const STANDALONE_ONLY = ['clock', 'random', 'signal', 'onEvent', 'budget'];

/** Checks the options only `retry()` has; the retry options themselves are checked by resolveRetryPolicy. */
function checkStandaloneOptions(value: StandaloneRetryOptions | undefined): StandaloneRetryOptions {
  const options = checkOptionsArgument('retry()', value);
  rejectUnknownKeys('retry() option', options, [...RETRY_OPTION_NAMES, ...STANDALONE_ONLY]);
  if (options.clock !== undefined) checkClock('retry clock', options.clock);
  if (options.random !== undefined) checkRandom('retry random', options.random);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw configError('retry signal', options.signal, 'an AbortSignal');
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw configError('retry onEvent', options.onEvent, 'a function receiving retry events');
  if (options.budget !== undefined && (options.budget === null || typeof options.budget !== 'object')) {
    throw configError('retry budget', options.budget, 'a RetryBudget');
  }
  return options;
}

function wrap<F extends AnyFn>(fn: F, options: StandaloneRetryOptions, name: string): (this: unknown, ...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>> {
  const policy = resolveRetryPolicy(checkStandaloneOptions(options));
  return function retried(this: unknown, ...args: Parameters<F>) {
    return executeWithRetry(() => Reflect.apply(fn, this, args) as Awaited<ReturnType<F>> | Promise<Awaited<ReturnType<F>>>, policy, {
      clock: options.clock,
      random: options.random,
      signal: options.signal,
      emit: options.onEvent,
      budget: options.budget,
      methodName: name,
      args,
      workerClass: '',
    });
  };
}

/**
 * `retry(fn, options)` returns `fn` wrapped in the retry engine; `@retry(options)` decorates a
 * class method (TypeScript 5 standard decorators). Same options and semantics as worker retries.
 */
export function retry<F extends AnyFn>(fn: F, options: StandaloneRetryOptions): (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>;
export function retry(options: StandaloneRetryOptions): <F extends AnyFn>(method: F, context: ClassMethodDecoratorContext) => F;
export function retry(fnOrOptions: AnyFn | StandaloneRetryOptions, maybeOptions?: StandaloneRetryOptions): unknown {
  if (typeof fnOrOptions === 'function') return wrap(fnOrOptions, maybeOptions ?? {}, fnOrOptions.name || 'anonymous');
  const options = checkStandaloneOptions(fnOrOptions);
  resolveRetryPolicy(options);
  return <F extends AnyFn>(method: F, context: ClassMethodDecoratorContext) => wrap(method, options, String(context.name)) as unknown as F;
}
