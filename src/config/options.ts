/**
 * The core worker options (`mode`, `maxConcurrency`, `unwrapFutures`, `stopTimeout`, `clock`,
 * `random`, `module`) with their checks, and the machinery every feature's option group uses:
 * a feature exports a table of checks, and `src/worker/option-table.ts` lists every table in one
 * place (no option registers itself at import).
 */
import { ConfigError } from '../errors.js';
import type { Clock, RandomSource } from '../clock.js';
import { checkBoolean, checkClock, checkInteger, checkNumber, checkOneOf, checkRandom, configError, rejectUnknownKeys } from './validate.js';

/** Where a worker runs. See docs/modes.md. */
export type Mode = 'sync' | 'async' | 'thread' | 'process' | 'distributed';
export const MODES: readonly Mode[] = ['sync', 'async', 'thread', 'process', 'distributed'];

/** Checks one option's value (throwing a ConfigError that names the option) and returns it. */
export type OptionCheck = (value: unknown) => unknown;

/** The checks of one feature's options, by option name. */
export type OptionChecks = Readonly<Record<string, OptionCheck>>;

/** For options whose value is checked later by their engine (retry, limits): accepted as given here. */
export const checkedByEngine: OptionCheck = (value) => value;

/** Names of the retry options; their values are checked by the retry engine. */
export const RETRY_OPTION_NAMES = [
  'numRetries',
  'retryOn',
  'retryAlgorithm',
  'retryWait',
  'retryMaxWait',
  'retryJitter',
  'retryUntil',
  'retryTimeout',
  'retryBudget',
] as const;

/** The options every worker has, whatever its mode. */
export interface CoreOptions {
  /** Where the worker runs: `'sync' | 'async' | 'thread' | 'process' | 'distributed'`. Required. */
  mode: Mode;
  /** Calls allowed to overlap (async methods); default 1 = strict actor order. */
  maxConcurrency?: number;
  /** Await futures found in arguments before sending a call; default true. */
  unwrapFutures?: boolean;
  /** Default `stop()` timeout, ms; default 30000. */
  stopTimeout?: number;
  /** Injected clock (tests). In-process modes only. */
  clock?: Clock;
  /** Injected randomness (tests). In-process modes only. */
  random?: RandomSource;
  /** Module URL of the class for thread/process modes, when it can't be found automatically. */
  module?: string;
}

/** Checks of {@link CoreOptions}, in the order error messages list them. */
export const CORE_OPTION_CHECKS = {
  mode: (v) => checkOneOf('mode', v, MODES),
  maxConcurrency: (v) => checkInteger('maxConcurrency', v, 1),
  unwrapFutures: (v) => checkBoolean('unwrapFutures', v),
  stopTimeout: (v) => checkNumber('stopTimeout', v, 0),
  clock: (v) => checkClock('clock', v),
  random: (v) => checkRandom('random', v),
  module: (v) => {
    if (typeof v !== 'string' || v.length === 0) throw configError('module', v, 'a module URL or path (import.meta.url)');
    return v;
  },
} as const satisfies Record<keyof CoreOptions, OptionCheck>;

/** Defaults every worker starts from; `globalConfig` and `withConfig` layer over them. */
export const BUILTIN_DEFAULTS = {
  maxConcurrency: 1,
  unwrapFutures: true,
  stopTimeout: 30_000,
  maxWorkers: 1,
  loadBalancing: 'round-robin',
  onDemand: false,
} as const;

/**
 * Checks every key and value of `options` against `checks` (unknown names suggest the nearest
 * valid one) and returns a copy without undefined values.
 */
export function checkOptions(options: unknown, checks: OptionChecks, where = 'option'): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(`Options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const names = Object.keys(checks);
  rejectUnknownKeys(where, options, names);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    out[key] = checks[key](value);
  }
  return out;
}
