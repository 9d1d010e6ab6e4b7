/**
 * What a host accepts from Redis. Anyone who can write to the Redis a host listens on can place
 * workers on it, so a host:
 * - builds only classes exported by the modules it was started with (never imports a module named
 *   in a message);
 * - turns received data into something callable in ONE place, {@link CodeGate}: TaskWorker
 *   functions (constructor argument and `submit()`'s first argument), retry predicates and
 *   validators all pass through it, and it denies by default:
 *   - a TaskWorker module reference resolves by export name among the host's own modules;
 *   - a static-method reference (`{ __static: name }`) resolves only against an allow-list of the
 *     class's own static methods (never `constructor`, `prototype`, `__proto__`, inherited
 *     `Function`/`Object` members, framework statics, classes, native or bound functions);
 *   - source text is compiled only when the host was started with `--allow-source-functions`, and
 *     only in its well-formed, tagged shape;
 *   - anything else that would have to become code is refused with {@link HostRefusedError}.
 * Nothing else in the host compiles, imports or looks up code by a received name.
 */
import { ConcurryError } from '../../errors.js';
import { encodeOptions, decodeOptions } from '../../serialize/options.js';
import { registerErrorClass } from '../../serialize/errors.js';
import { deserializeFunction, type SerializedFunction } from '../../serialize/functions.js';
import { isPortableFunction } from '../../serialize/portable.js';
import type { WorkerRuntime } from '../../runtime/runtime.js';

/** A host refused something it was sent: a function as source text, a class or function it does not have. */
export class HostRefusedError extends ConcurryError {}
registerErrorClass(HostRefusedError);

type Callable = (...a: unknown[]) => unknown;
/** Any function, held as a value (a static method, a function a module exports): never called with typed arguments here. */
export type AnyFunction = (...args: never[]) => unknown;
/** A worker class as a host builds it: what WorkerRuntime takes (its constructor arguments come from the caller). */
export type WorkerClass = ConstructorParameters<typeof WorkerRuntime>[0];
/** A class, as far as static methods go. */
type ClassLike = abstract new (...args: never[]) => unknown;

const WORKER_BASE = Symbol.for('concurry.WorkerBase');
/** Longest source text a host that accepts source functions compiles (a sanity bound, not a defence). */
const MAX_SOURCE_LENGTH = 1_000_000;

function isNativeOrBound(fn: AnyFunction): boolean {
  return /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

function isClass(fn: AnyFunction): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

const staticsCache = new WeakMap<ClassLike, ReadonlyMap<string, AnyFunction>>();

/**
 * The static methods of a worker class that may be referenced by name, as an allow-list: own
 * data-property functions of the class and its superclasses, stopping at concurry's Worker base
 * (and never reaching `Function.prototype` or `Object`). Classes, native and bound functions are
 * left out: they are not validators a user wrote, and `Function` is exactly what must not be
 * reachable.
 */
export function referableStatics(cls: ClassLike): ReadonlyMap<string, AnyFunction> {
  const hit = staticsCache.get(cls);
  if (hit) return hit;
  const out = new Map<string, AnyFunction>();
  for (let c: unknown = cls; typeof c === 'function' && c !== Function.prototype && c !== Object && !Object.hasOwn(c, WORKER_BASE); c = Object.getPrototypeOf(c)) {
    for (const name of Object.getOwnPropertyNames(c)) {
      if (out.has(name) || name === 'prototype' || name === 'constructor' || name === '__proto__') continue;
      const fn: unknown = Object.getOwnPropertyDescriptor(c, name)?.value;
      if (typeof fn !== 'function' || isClass(fn as AnyFunction) || isNativeOrBound(fn as AnyFunction)) continue;
      out.set(name, fn as AnyFunction);
    }
  }
  staticsCache.set(cls, out);
  return out;
}

/** Replaces functions that are referable statics of the class with `{ __static: name }` (walks arrays and plain objects). */
function referenceStatics(value: unknown, byFunction: ReadonlyMap<AnyFunction, string>): unknown {
  if (typeof value === 'function') {
    const name = byFunction.get(value as AnyFunction);
    return name === undefined ? value : { __static: name };
  }
  if (Array.isArray(value)) return value.map((v) => referenceStatics(v, byFunction));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, referenceStatics(v, byFunction)]));
  }
  return value;
}

/** Caller side: runtime options made sendable; static methods of the class go by name. */
export function encodeRuntimeOptions(workerClass: ClassLike, runtimeOptions: object): unknown {
  const byFunction = new Map<AnyFunction, string>();
  for (const [name, fn] of referableStatics(workerClass)) if (!byFunction.has(fn)) byFunction.set(fn, name);
  return encodeOptions(referenceStatics(runtimeOptions, byFunction) as object);
}

/** A received string, quoted and cut short for an error message. */
function quote(value: unknown): string {
  if (typeof value !== 'string') return `(a ${value === null ? 'null' : typeof value})`;
  const s = value.replace(/[^\x20-\x7e]/g, '?');
  return `'${s.length > 60 ? `${s.slice(0, 60)}…` : s}'`;
}

/** What a received value is, for a refusal. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return isPlainRecord(value) ? 'a plain object' : 'an object';
  return `a ${typeof value}`;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The tagged `{ source, name }` shape a caller sends, or undefined for anything else. */
function wellFormedSource(payload: unknown): SerializedFunction | undefined {
  if (!isPlainRecord(payload)) return undefined;
  const { source, name } = payload;
  if (typeof source !== 'string' || source.length === 0 || source.length > MAX_SOURCE_LENGTH) return undefined;
  if (name !== undefined && typeof name !== 'string') return undefined;
  return { source, name: name ?? '' };
}

/**
 * The one chokepoint through which anything a host received from Redis becomes callable. Built
 * once per host from its options; see the module comment for the rules.
 */
export class CodeGate {
  constructor(
    readonly allowSource: boolean,
    private readonly functions: ReadonlyMap<string, AnyFunction>,
    private readonly moduleNames: readonly string[],
  ) {}

  /**
   * Compiles source text, only when the host opted in and only in its well-formed shape. `what`
   * names it for the malformed case; `refusal` is the whole message when the host did not opt in.
   */
  private compile(payload: unknown, what: string, refusal: string): AnyFunction {
    if (!this.allowSource) throw new HostRefusedError(refusal);
    const wellFormed = wellFormedSource(payload);
    if (!wellFormed) throw new HostRefusedError(`This host refuses ${what}: it is not in the form callers send ({ source, name } strings)`);
    return deserializeFunction(wellFormed);
  }

  /**
   * A TaskWorker function as received (a constructor argument or `submit()`'s first argument):
   * a module reference resolves by export name among the host's modules; source text compiles
   * only when allowed; any other value is refused — it is never handed to code that could compile it.
   */
  taskFunction(value: unknown): Callable {
    if (!isPortableFunction(value)) {
      throw new HostRefusedError(
        `This host refuses a TaskWorker function that is ${describe(value)}: ` +
          `send a function through TaskWorker's own handle (submit(fn) / init(fn)), or { module: import.meta.url, export: 'name' } for a function exported by a module the host was started with`,
      );
    }
    const fn = value as { __concurryFn: unknown; export?: unknown; payload?: { name?: unknown } };
    if (fn.__concurryFn === 'module') {
      const name = typeof fn.export === 'string' ? fn.export : undefined;
      const found = name === undefined ? undefined : this.functions.get(name);
      if (!found) {
        throw new HostRefusedError(
          `This host has no exported function ${quote(fn.export)}: it runs only functions exported by the modules it was started with (${this.moduleNames.join(', ') || 'none'}); start it with --module <file exporting ${String(name ?? 'it')}>`,
        );
      }
      return found as Callable;
    }
    if (fn.__concurryFn === 'source') {
      const name = typeof fn.payload?.name === 'string' && fn.payload.name ? fn.payload.name : 'anonymous';
      return this.compile(
        fn.payload,
        `the TaskWorker function ${name}`,
        `This host refuses TaskWorker functions sent as source text (${name}): pass { module: import.meta.url, export: 'name' } for a function exported by a module the host was started with, or start the host with --allow-source-functions if you trust every client of this Redis`,
      ) as Callable;
    }
    throw new HostRefusedError(`This host refuses a TaskWorker function of kind ${quote(fn.__concurryFn)}: only module references${this.allowSource ? ' and source text' : ''} are accepted`);
  }

  /** A `{ __static: name }` reference: only a name on the class's allow-list resolves. */
  private staticFunction(cls: ClassLike, name: unknown, path: string): AnyFunction {
    const fn = typeof name === 'string' ? referableStatics(cls).get(name) : undefined;
    if (!fn) {
      throw new HostRefusedError(
        `${path}: ${quote(name)} is not a static method of ${cls.name} on this host; only the class's own static methods can be referenced (is the host running the same version of the module?)`,
      );
    }
    return fn;
  }

  /** Resolves static references and source functions in received runtime options, then decodes them (never compiling on its own). */
  runtimeOptions<T>(encoded: unknown, cls: ClassLike): T {
    return decodeOptions<T>(this.resolveOptionFunctions(encoded, cls, 'options'), () => {
      throw new HostRefusedError('This host refuses a function in the options that is not where callers put one');
    });
  }

  private resolveOptionFunctions(encoded: unknown, cls: ClassLike, path: string): unknown {
    if (Array.isArray(encoded)) return encoded.map((v, i) => this.resolveOptionFunctions(v, cls, `${path}[${i}]`));
    if (encoded === null || typeof encoded !== 'object') return encoded;
    const o = encoded as Record<string, unknown>;
    if (Object.hasOwn(o, '__static')) return this.staticFunction(cls, o.__static, path);
    if (Object.hasOwn(o, '__fn')) {
      const payload = o.__fn as { name?: unknown } | undefined;
      const name = typeof payload?.name === 'string' && payload.name ? payload.name : 'anonymous';
      const option = path.replace(/^options\.(retry\.)?/, '').split(/[.[]/)[0];
      return this.compile(
        payload,
        `the function in option '${option}' (${name})`,
        `This host refuses functions sent as source text (option '${option}': function ${name}). ` +
          `Make it a static method of ${cls.name} (it then travels by name), use an error class or a built-in predicate (transientErrors, rateLimitErrors), ` +
          `or start the host with --allow-source-functions if you trust every client of this Redis`,
      );
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.resolveOptionFunctions(v, cls, `${path}.${k}`)]));
  }

  /**
   * The class the host builds for a TaskWorker class (concurry's own, or one a hosted module
   * exports or extends): the function TaskWorker's constructor stored (`bound`) and `submit()`'s
   * first argument go through this gate, so TaskWorker only ever calls real functions.
   */
  taskWorkerClass(base: WorkerClass): WorkerClass {
    const taskFunction = (value: unknown) => this.taskFunction(value);
    const Base = base as new (fn?: unknown) => { submit(...args: unknown[]): unknown };
    class HostTaskWorker extends Base {
      constructor(...args: unknown[]) {
        // The arguments go as sent (a subclass may take others); what reached TaskWorker's function
        // slot — the received constructor argument, for concurry's own — is gated before any call.
        super(...args);
        const slot = this as unknown as { bound?: unknown };
        if (slot.bound !== undefined && typeof slot.bound !== 'function') slot.bound = taskFunction(slot.bound);
      }
      override submit(...args: unknown[]): unknown {
        if (args.length > 0 && isPortableFunction(args[0])) args[0] = taskFunction(args[0]);
        return super.submit(...args);
      }
    }
    // Callers name it by the base's name; errors and events say that name too.
    Object.defineProperty(HostTaskWorker, 'name', { value: base.name });
    return HostTaskWorker;
  }
}

/** Whether `cls` is concurry's TaskWorker or extends it (a brand on the class, so another copy of the package counts too). */
export function isTaskWorkerClass(cls: object): boolean {
  return (cls as Record<symbol, unknown>)[Symbol.for('concurry.TaskWorker')] === true;
}
