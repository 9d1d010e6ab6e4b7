/**
 * TaskWorker: a worker that runs the functions you give it. `submit(fn, ...args)` runs one call;
 * `map(fn, ...iterables)` streams many. In thread and process modes a function travels by its
 * source text (it must not use variables from its enclosing scope), or as a module reference
 * `{ module: import.meta.url, export: 'name' }`.
 */
import { ConfigError } from '../errors.js';
import { Future } from '../future/future.js';
import { Worker, WorkerBuilder, type WorkerOptions, type WorkerOptionsFor } from '../worker/worker.js';
import type { HandleControls } from '../worker/types.js';
import { MapRun, isIterableInput, type MapOptions } from './map.js';
import { toPortableFunction, toCallable, isPortableFunction, type PortableFunction } from '../serialize/portable.js';

/**
 * Any function a TaskWorker may run. Its arguments are only known to the caller's own function, so
 * `any` here is the honest type (as in TypeScript's own `Parameters`/`ReturnType` constraints): an
 * un-parameterised handle must accept the calls it accepted before.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: a function whose parameters only its caller knows
type AnyFunction = (...args: any[]) => any;
/** The worker-class constraint of `Worker.options` (constructor arguments of any types). */
type AnyConstructor = new (...args: Parameters<AnyFunction>) => object;

/** An exported function, found by module URL and export name in whichever thread/process runs it. */
export interface ModuleFunctionRef {
  module: string;
  export: string;
}

/** The worker class behind every TaskWorker handle. */
export class TaskWorker extends Worker {
  static module = import.meta.url;
  /** The bound function. A distributed host gates it right after construction (security.ts), hence not `#private`. */
  private readonly bound?: PortableFunction | ((...a: unknown[]) => unknown);

  constructor(fn?: PortableFunction | ((...a: unknown[]) => unknown)) {
    super();
    this.bound = fn;
  }

  /** Runs `fn(...args)`, or the bound function with all arguments when the first is not a function. */
  submit(...args: unknown[]): unknown {
    let fn = this.bound;
    if (args.length > 0 && (typeof args[0] === 'function' || isPortableFunction(args[0]))) fn = args.shift() as typeof fn;
    if (fn === undefined) {
      throw new TypeError('submit() needs a function: pass it as the first argument, or bind one with init(fn)');
    }
    const callable = toCallable(fn);
    return callable instanceof Promise ? callable.then((f) => f(...args)) : callable(...args);
  }

  /** Starts configuring TaskWorkers; the same options as any worker (per-method records name `submit`). */
  static override options(options: WorkerOptionsFor<TaskWorker>): TaskWorkerBuilder;
  /** @deprecated Only here so TaskWorker stays a Worker subclass for the type checker; the overload above is the one taken. */
  static override options<C extends AnyConstructor>(this: C, options: WorkerOptionsFor<InstanceType<C>>): WorkerBuilder<C>;
  static override options(options: WorkerOptionsFor<TaskWorker>): unknown {
    return new TaskWorkerBuilder(options);
  }
}

// A brand distributed hosts recognise TaskWorker classes by (subclasses inherit it): they turn data into code.
Object.defineProperty(TaskWorker, Symbol.for('concurry.TaskWorker'), { value: true });

/** The handle of a TaskWorker (or a pool of them). */
export interface TaskWorkerHandle<Bound extends AnyFunction = AnyFunction> extends HandleControls {
  // `this: void`: submit and map are plain functions, safe to pass around detached (`const { submit } = handle`).
  /** Runs `fn(...args)` in the worker. */
  submit<A extends unknown[], R>(this: void, fn: (...args: A) => R, ...args: A): Future<Awaited<R>>;
  submit(this: void, fn: ModuleFunctionRef, ...args: unknown[]): Future<unknown>;
  /** Runs the bound function with `args`. */
  submit(this: void, ...args: Parameters<Bound>): Future<Awaited<ReturnType<Bound>>>;
  /**
   * Streams `fn` over the zipped inputs (arrays, iterables, async iterables; shortest wins), with a
   * bounded number of calls in flight. Options may be given as the last argument.
   */
  map<R>(this: void, fn: (...args: Parameters<AnyFunction>) => R, ...inputsAndOptions: MapArgument[]): MapRun<Awaited<R>>;
  map(this: void, fn: ModuleFunctionRef, ...inputsAndOptions: MapArgument[]): MapRun<unknown>;
  map(this: void, ...inputsAndOptions: MapArgument[]): MapRun<Awaited<ReturnType<Bound>>>;
}

/** An input of `map` (array, iterable, async iterable), or its options as the last argument. */
type MapArgument = Iterable<unknown> | AsyncIterable<unknown> | MapOptions;

const REMOTE_MODES = new Set(['thread', 'process', 'distributed']);

/** `TaskWorker.options(opts)`: `init(fn?)` creates the TaskWorker and returns its handle. */
export class TaskWorkerBuilder {
  private readonly inner: WorkerBuilder<typeof TaskWorker>;
  private readonly remote: boolean;

  constructor(options: WorkerOptions) {
    this.inner = new WorkerBuilder(TaskWorker, options);
    this.remote = REMOTE_MODES.has(this.inner.resolved.mode);
  }

  init<F extends AnyFunction = AnyFunction>(fn?: F | ModuleFunctionRef): TaskWorkerHandle<F> {
    if (fn !== undefined && !isTaskFunction(fn)) {
      throw new ConfigError(`TaskWorker.init(fn): expected a function or { module, export }, got ${typeof fn}`);
    }
    const portable = (f: AnyFunction | ModuleFunctionRef, what: string): PortableFunction | AnyFunction =>
      this.remote || isModuleRef(f) ? toPortableFunction(f, what) : f;
    const handle = this.inner.init(fn === undefined ? undefined : portable(fn, 'the bound function'));
    const rawSubmit = handle.submit;
    const submit = (...args: unknown[]) => {
      if (args.length > 0 && isTaskFunction(args[0])) {
        args[0] = portable(args[0], 'the submitted function');
      }
      return rawSubmit(...args);
    };
    const map = (...args: unknown[]) => {
      const options = args.length > 0 && !isIterableInput(args[args.length - 1]) && typeof args[args.length - 1] === 'object'
        ? (args.pop() as MapOptions)
        : {};
      let fnArg: unknown;
      const first = args[0];
      if (args.length > 0 && isTaskFunction(first)) {
        args.shift();
        fnArg = portable(first, 'the mapped function');
      }
      for (const [i, input] of args.entries()) {
        if (!isIterableInput(input)) {
          throw new TypeError(`map(): input ${i + 1} is not iterable (got ${input === null ? 'null' : typeof input})`);
        }
      }
      if (fnArg === undefined && fn === undefined) {
        throw new TypeError('map() needs a function: pass it first, or bind one with init(fn)');
      }
      const submitTuple = fnArg === undefined ? (tuple: unknown[]) => rawSubmit(...tuple) : (tuple: unknown[]) => rawSubmit(fnArg, ...tuple);
      return new MapRun(args as Iterable<unknown>[], submitTuple, options);
    };
    return Object.assign(handle, { submit, map }) as TaskWorkerHandle<F>;
  }
}

function isModuleRef(value: unknown): value is ModuleFunctionRef {
  if (value === null || typeof value !== 'object') return false;
  const ref = value as Partial<Record<keyof ModuleFunctionRef, unknown>>;
  return typeof ref.module === 'string' && typeof ref.export === 'string';
}

/** What a TaskWorker runs: a function, or a reference to an exported one. */
function isTaskFunction(value: unknown): value is AnyFunction | ModuleFunctionRef {
  return typeof value === 'function' || isModuleRef(value);
}

/** A function turned into a running TaskWorker: calling it submits; `.map`, `.stop` and friends are there too. */
export type TaskFunctionHandle<F extends AnyFunction> = ((...args: Parameters<F>) => Future<Awaited<ReturnType<F>>>) &
  TaskWorkerHandle<F>;

/**
 * Turns a function into a running TaskWorker: `const embed = task({ mode: 'thread' })(fn)`;
 * `await embed(x)` submits one call, `embed.map(xs)` streams, `await embed.stop()` ends it.
 */
export function task(options: WorkerOptionsFor<TaskWorker>) {
  const builder = new TaskWorkerBuilder(options);
  return <F extends AnyFunction>(fn: F): TaskFunctionHandle<F> => {
    const handle = builder.init(fn);
    // The bound-function overload of submit: calling the handle submits with the function bound.
    const submit = handle.submit as (...args: Parameters<F>) => Future<Awaited<ReturnType<F>>>;
    const call = (...args: Parameters<F>) => submit(...args);
    // The handle keeps the function's name (and length), as a decorated function would.
    Object.defineProperty(call, 'name', { value: typeof fn === 'function' ? fn.name : 'task', configurable: true });
    Object.defineProperty(call, 'length', { value: typeof fn === 'function' ? fn.length : 0, configurable: true });
    return Object.assign(call, handle, { submit: handle.submit, map: handle.map });
  };
}
