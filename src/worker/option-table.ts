/**
 * The worker option table: every option a worker accepts, with its check, listed here from each
 * feature's option group. Nothing registers itself at import; adding an option means adding its
 * group (or entry) below, next to where its type joins `WorkerOptions`.
 */
import { CORE_OPTION_CHECKS, RETRY_OPTION_NAMES, checkOptions, checkedByEngine, type OptionChecks } from '../config/options.js';
import { checkBoolean, checkInteger, checkOneOf } from '../config/validate.js';
import { LOAD_BALANCING, type LoadBalancing } from '../pool/balancers.js';
import { RESILIENCE_OPTION_CHECKS } from '../resilience/options.js';
import { THREAD_OPTION_CHECKS } from '../modes/thread.js';
import { DISTRIBUTED_OPTION_CHECKS } from '../modes/distributed/register.js';
import type { WorkerOptions } from './worker.js';

/** The pool options: how many workers serve one handle and how calls are spread over them. */
export interface PoolOptions {
  /** Workers in the pool; > 1 builds a pool with the same handle API. Default 1. */
  maxWorkers?: number;
  /** How a pool picks a worker: 'round-robin' (default), 'least-active', 'least-total', 'random'. */
  loadBalancing?: LoadBalancing;
  /** Start a fresh worker per call (at most maxWorkers at once), torn down after. */
  onDemand?: boolean;
  /** Calls in flight per worker; extra calls wait in the pool's FIFO. Default: unbounded (process mode: 100). */
  maxQueuedTasks?: number;
}

const POOL_OPTION_CHECKS = {
  maxWorkers: (v) => checkInteger('maxWorkers', v, 1),
  loadBalancing: (v) => checkOneOf('loadBalancing', v, LOAD_BALANCING),
  onDemand: (v) => checkBoolean('onDemand', v),
  maxQueuedTasks: (v) => checkInteger('maxQueuedTasks', v, 1),
} as const satisfies Record<keyof PoolOptions, OptionChecks[string]>;

const RETRY_OPTION_CHECKS: OptionChecks = Object.fromEntries(RETRY_OPTION_NAMES.map((name) => [name, checkedByEngine]));

const { mode, maxConcurrency, unwrapFutures, stopTimeout, clock, random, module } = CORE_OPTION_CHECKS;

/** Every worker option and its check, in the order "Unknown option" messages list them. */
const WORKER_OPTION_CHECKS: OptionChecks = {
  mode,
  maxConcurrency,
  unwrapFutures,
  stopTimeout,
  // Checked (and turned into a LimitSet or LimitPool) by toLimits when the builder is made.
  limits: checkedByEngine,
  clock,
  random,
  module,
  ...POOL_OPTION_CHECKS,
  ...RETRY_OPTION_CHECKS,
  ...THREAD_OPTION_CHECKS,
  ...DISTRIBUTED_OPTION_CHECKS,
  ...RESILIENCE_OPTION_CHECKS,
};

/**
 * Checks worker options (every key known, every value valid) and returns a copy without undefined
 * values. `where` names what is checked in "Unknown …" messages.
 */
export function checkWorkerOptions(options: unknown, where?: string): Partial<WorkerOptions> {
  // The table above has one check per WorkerOptions key, each returning a valid value of that
  // option: the checked record is a Partial<WorkerOptions> by construction.
  return checkOptions(options, WORKER_OPTION_CHECKS, where);
}
