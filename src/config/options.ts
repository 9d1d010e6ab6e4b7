import { ConfigError } from '../errors.js';
import { checkBoolean, checkClock, checkInteger, checkNumber, checkOneOf, checkRandom, configError, rejectUnknownKeys } from './validate.js';

/** Where a worker runs. See docs/modes.md. */
export type Mode = 'sync' | 'async' | 'thread' | 'process' | 'distributed';
export const MODES: readonly Mode[] = ['sync', 'async', 'thread', 'process', 'distributed'];

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

type Checker = (value: unknown) => unknown;

/** Every option a worker accepts, with its check. Options with no check here are checked by their engine. */
const CHECKERS: Record<string, Checker> = {
  mode: (v) => checkOneOf('mode', v, MODES),
  maxConcurrency: (v) => checkInteger('maxConcurrency', v, 1),
  unwrapFutures: (v) => checkBoolean('unwrapFutures', v),
  stopTimeout: (v) => checkNumber('stopTimeout', v, 0),
  limits: (v) => v,
  clock: (v) => checkClock('clock', v),
  random: (v) => checkRandom('random', v),
  module: (v) => {
    if (typeof v !== 'string' || v.length === 0) throw configError('module', v, 'a module URL or path (import.meta.url)');
    return v;
  },
  maxWorkers: (v) => checkInteger('maxWorkers', v, 1),
  loadBalancing: (v) => checkOneOf('loadBalancing', v, ['round-robin', 'least-active', 'least-total', 'random']),
  onDemand: (v) => checkBoolean('onDemand', v),
  maxQueuedTasks: (v) => checkInteger('maxQueuedTasks', v, 1),
  ...Object.fromEntries(RETRY_OPTION_NAMES.map((n) => [n, (v: unknown) => v])),
};

/** Defaults every worker starts from; `globalConfig` and `withConfig` layer over them. */
export const BUILTIN_DEFAULTS = {
  maxConcurrency: 1,
  unwrapFutures: true,
  stopTimeout: 30_000,
  maxWorkers: 1,
  loadBalancing: 'round-robin',
  onDemand: false,
} as const;

export function knownOptionNames(): string[] {
  return Object.keys(CHECKERS);
}

/** Registers the check of an option added by a feature module (pools, resilience, …). */
export function registerOption(name: string, check: Checker): void {
  CHECKERS[name] = check;
}

/**
 * Checks every key and value of `options` (unknown names suggest the nearest valid one) and
 * returns a copy without undefined values.
 */
export function checkOptions(options: unknown, where = 'option'): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(`Options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  rejectUnknownKeys(where, options, Object.keys(CHECKERS));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    out[key] = CHECKERS[key](value);
  }
  return out;
}
