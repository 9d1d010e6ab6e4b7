import { ConfigError } from '../errors.js';
import { globalConfig } from './config.js';
import { BUILTIN_DEFAULTS, RETRY_OPTION_NAMES, type Mode } from '../config/options.js';
import { configError } from '../config/validate.js';
import type { CallContext } from '../runtime/context.js';
import { takeConstructionSlot, runtimeKey } from '../runtime/construct.js';
import { isReservedHandleKey, publicMethodNames, RESERVED_HANDLE_KEYS } from '../runtime/methods.js';
import { transportFactory } from '../modes/registry.js';
import type { DistributedOptions } from '../modes/distributed/register.js';
import { resolveRetryPolicies, RetryBudget, type WorkerRetryOptions } from '../retry/index.js';
import { emptyLimitSet, type LimitsLike } from '../limits/index.js';
import { toLimits } from './limits-option.js';
import { HandleCore } from './handle.js';
import type { Transport, TransportInit, TransportOptions } from '../modes/transport.js';
import { PoolTransport } from '../pool/pool-transport.js';
import type { HandleControls, WorkerHandle } from './types.js';
import { checkHedgeMethods, resolveTimeouts, type ResilienceOptions } from '../resilience/options.js';
import { CallGuard } from '../resilience/guard.js';
import { observeLimitWaits } from '../limits/limit-events.js';
import { systemClock } from '../clock.js';
import { checkWorkerOptions, type PoolOptions } from './option-table.js';

/**
 * Options accepted by `Worker.options()`: the core options (`mode`, `maxConcurrency`, …), what
 * transports read (`limits`, `module`, `resourceLimits`, the distributed `connection`, `prefix`,
 * `delivery`), the pool, retry and resilience options.
 */
export interface WorkerOptions extends TransportOptions, DistributedOptions, PoolOptions, WorkerRetryOptions, ResilienceOptions {}

/**
 * The options of workers of class `W`: {@link WorkerOptions} whose per-method records name `W`'s
 * methods (a misspelled method is a compile error) and whose validators see each method's result type.
 */
export type WorkerOptionsFor<W> = Omit<WorkerOptions, keyof WorkerRetryOptions> & WorkerRetryOptions<W>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructor parameters are contravariant: only `any[]` accepts every class and still lets init() name them
type WorkerClass<W extends object = object> = new (...args: any[]) => W;

/**
 * Base class of actor-style workers. Subclass it, then build instances with
 * `MyWorker.options({ mode }).init(...args)`.
 */
export class Worker {
  /** The limits this worker's methods draw on (an empty set, which never blocks, when none were given). */
  declare readonly limits: LimitsLike;

  constructor() {
    const slot = takeConstructionSlot();
    Object.defineProperty(this, 'limits', { value: slot?.limits ?? emptyLimitSet(), enumerable: false, configurable: true });
    if (slot) Object.defineProperty(this, runtimeKey, { value: slot.runtime, enumerable: false });
  }

  /**
   * The running call's context: attempt number, elapsed time, `AbortSignal`, and the reasons earlier
   * outputs were rejected. Read it at the start of a method (with `maxConcurrency` > 1 it follows
   * the async chain).
   */
  get context(): CallContext {
    const ctx = (this as WorkerBaseSlots)[runtimeKey]?.currentContext();
    if (!ctx) throw new ConfigError('this.context is only available inside a worker method call');
    return ctx;
  }

  /** Starts configuring workers of this class. Bad options throw ConfigError here. */
  static options<C extends WorkerClass>(this: C, options: WorkerOptionsFor<InstanceType<C>>): WorkerBuilder<C> {
    return new WorkerBuilder(this, options);
  }
}
Object.defineProperty(Worker, Symbol.for('concurry.WorkerBase'), { value: true });

/** The hidden slot the runtime sets on an instance it constructs (see runtime/construct.ts). */
interface WorkerBaseSlots {
  readonly [runtimeKey]?: { currentContext(): CallContext | undefined };
}

/** Options checked and merged with defaults; what `init()` builds from. */
export type ResolvedWorkerOptions = WorkerOptions & Required<Pick<WorkerOptions, keyof typeof BUILTIN_DEFAULTS>>;

/** Built by `Worker.options()`; `init()` creates workers. */
export class WorkerBuilder<C extends WorkerClass> {
  readonly resolved: ResolvedWorkerOptions;
  private readonly methods: string[];

  constructor(
    readonly workerClass: C,
    options: WorkerOptions,
  ) {
    if (typeof workerClass !== 'function') throw new ConfigError('options() must be called on a worker class');
    if (options === null || typeof options !== 'object') {
      throw new ConfigError(`options() takes an object with at least { mode }, got ${String(options)}`);
    }
    if (options.mode === undefined) {
      throw configError('mode', undefined, "one of 'sync', 'async', 'thread', 'process' (mode is required)");
    }
    const explicit = checkWorkerOptions(options);
    const mode = options.mode;
    this.resolved = { ...BUILTIN_DEFAULTS, ...globalConfig.resolved(mode), ...explicit, mode };
    this.methods = publicMethodNames(workerClass);
    for (const name of this.methods) {
      if (isReservedHandleKey(name)) {
        throw new ConfigError(
          `${workerClass.name} defines a method named '${name}', which handles reserve (${RESERVED_HANDLE_KEYS.join(', ')}); rename it`,
        );
      }
    }
    // Fail fast on retry options (unknown method names, ranges), before any worker exists.
    resolveRetryPolicies(retryOptionsOf(this.resolved), this.methods);
    if (this.resolved.limits !== undefined) toLimits(this.resolved.limits);
    resolveTimeouts(this.resolved.timeout, this.methods);
    checkHedgeMethods(this.resolved.hedge, this.methods, this.resolved.maxWorkers);
  }

  /** One worker's transport, or a pool of them when `maxWorkers > 1` or `onDemand`. */
  private buildTransport(init: TransportInit, retry: WorkerRetryOptions): Transport {
    const o = this.resolved;
    const factory = transportFactory(o.mode);
    const maxWorkers = o.maxWorkers;
    // A thread or process can die (crash, out of memory, terminated after a timeout): even a single
    // one sits in a pool of one, which replaces it and re-sends the calls that never started.
    const replaceable = o.mode === 'thread' || o.mode === 'process';
    if (maxWorkers <= 1 && !o.onDemand && !replaceable) return factory(init);
    const policies = resolveRetryPolicies(retry, this.methods);
    return new PoolTransport(init, factory, {
      maxWorkers,
      loadBalancing: o.loadBalancing,
      onDemand: o.onDemand,
      maxQueuedTasks: o.maxQueuedTasks ?? DEFAULT_MAX_QUEUED_TASKS[o.mode] ?? Infinity,
      crashRetriesFor: (method) => policies(method)?.numRetries ?? 0,
    });
  }

  /** Creates the worker (or pool) and returns its handle at once; construction errors surface from `ready()` and every call. */
  init(...ctorArgs: ConstructorParameters<C>): WorkerHandle<InstanceType<C>> {
    if ((globalThis as Record<symbol, unknown>)[Symbol.for('concurry.locating')]) {
      // A worker thread/process is importing this module to find a class, and the module's
      // top-level code starts workers again: without this stop, each worker would spawn another.
      throw new ConfigError(
        `${this.workerClass.name}.options(...).init() ran inside a worker while it imported a module to find a worker class. ` +
          'Guard the top-level code that starts workers: if (isMainModule(import.meta.url)) { … } (isMainModule is exported by concurry), ' +
          'or move the worker class to its own file with static module = import.meta.url.',
      );
    }
    const o = this.resolved;
    // Assigned right after the transport is built; the callbacks below only run after that.
    // eslint-disable-next-line prefer-const -- declared before the closures that read it, assigned once after
    let core!: HandleCore;
    const limits = observeLimitWaits(
      o.limits === undefined ? emptyLimitSet() : toLimits(o.limits),
      (e) => core.onEvent(e),
      () => core.observes('limit-wait'),
    );
    const retry = retryOptionsOf(o);
    const budget = retry.retryBudget ? new RetryBudget(retry.retryBudget, o.clock) : undefined;
    const transport = this.buildTransport({
      workerClass: this.workerClass,
      moduleRef: undefined,
      ctorArgs,
      runtimeOptions: { maxConcurrency: o.maxConcurrency, retry, ...(o.chaos ? { chaos: o.chaos } : {}) },
      onEvent: (e) => core.onEvent(e),
      limits,
      workerIndex: 0,
      clock: o.clock,
      random: o.random,
      budget,
      options: o,
    }, retry);
    core = new HandleCore(this.workerClass.name, this.methods, transport, o.unwrapFutures, o.stopTimeout);
    if (GUARD_OPTIONS.some((name) => o[name] !== undefined)) {
      core.useGuard(
        (nextId) =>
          new CallGuard({
            className: this.workerClass.name,
            methods: this.methods,
            transport,
            clock: o.clock ?? systemClock,
            options: o,
            emit: (e) => core.onEvent(e),
            nextId,
          }),
      );
    }
    return makeHandle(core) as WorkerHandle<InstanceType<C>>;
  }
}

/** Options served by the caller-side resilience layer; without them calls skip it entirely. */
const GUARD_OPTIONS = ['timeout', 'circuitBreaker', 'hedge', 'fallback', 'lastGood'] as const;

/** Default calls in flight per process worker (IPC buffers grow otherwise); unbounded elsewhere. */
const DEFAULT_MAX_QUEUED_TASKS: Partial<Record<Mode, number>> = { process: 100 };

/** The retry options among `o`, without undefined ones (the runtime sends them to thread/process workers). */
function retryOptionsOf(o: WorkerRetryOptions): WorkerRetryOptions {
  const out: Record<string, unknown> = {};
  for (const name of RETRY_OPTION_NAMES) if (o[name] !== undefined) out[name] = o[name];
  return out;
}

/**
 * The handle object: a plain object with one own property per public method of the class and the
 * controls (`ready`, `stop`, `on`, `off`, `stats`, `circuit`, `Symbol.asyncDispose`). Nothing else
 * answers: any other name reads as `undefined` (apart from what every object inherits from
 * `Object.prototype`), so duck-typing checks (`typeof x.then === 'function'`, `x.pipe`, `x.next`,
 * `x.toJSON`) see a handle for what it is, and calling a name the class lacks is JavaScript's own
 * "is not a function" TypeError. Own properties also keep calls on V8's fast path (no Proxy).
 */
export function makeHandle(core: HandleCore): object {
  const handle: Record<string | symbol, unknown> = {};
  for (const name of core.methodNames) {
    handle[name] = (...args: unknown[]) => core.call(name, args);
  }
  handle.ready = () => core.ready();
  handle.stop = (options?: { timeout?: number }) => core.stop(options);
  const on: HandleControls['on'] = (type, fn) => core.on(type, fn);
  const off: HandleControls['off'] = (type, fn) => core.off(type, fn);
  handle.on = on;
  handle.off = off;
  handle.stats = () => core.stats();
  Object.defineProperty(handle, 'circuit', { get: () => core.circuit, enumerable: true });
  handle[Symbol.asyncDispose] = () => core.stop();
  return handle;
}
