/**
 * What a host accepts from Redis. Anyone who can write to the Redis a host listens on can place
 * workers on it, so a host:
 * - builds only classes exported by the modules it was started with (never imports a module named
 *   in a message);
 * - resolves TaskWorker module references by export name among those same modules;
 * - refuses functions sent as source text (TaskWorker functions, retry predicates and validators)
 *   unless it was started with `--allow-source-functions`. Retry predicates and validators that are
 *   static methods of the worker class travel by name instead and always work.
 */
import { ConcurryError } from '../../errors.js';
import { encodeOptions } from '../../serialize/options.js';
import { registerErrorClass } from '../../serialize/errors.js';
import { isPortableFunction, toCallable, type PortableFunction } from '../../task/portable.js';

/** A host refused something it was sent: a function as source text, a class or function it does not have. */
export class HostRefusedError extends ConcurryError {}
registerErrorClass(HostRefusedError);

/** Static functions of a class (own and inherited), by name. */
function staticFunctions(cls: Function): Map<Function, string> {
  const out = new Map<Function, string>();
  for (let c: any = cls; c && c !== Function.prototype && c !== Object; c = Object.getPrototypeOf(c)) {
    for (const name of Object.getOwnPropertyNames(c)) {
      if (name === 'prototype' || name === 'length' || name === 'name' || name === 'caller' || name === 'arguments') continue;
      const desc = Object.getOwnPropertyDescriptor(c, name);
      if (desc && typeof desc.value === 'function' && !out.has(desc.value)) out.set(desc.value, name);
    }
  }
  return out;
}

/** Replaces functions that are static members of `cls` with `{ __static: name }` (walks arrays and plain objects). */
function referenceStatics(value: unknown, statics: Map<Function, string>): unknown {
  if (typeof value === 'function') {
    const name = statics.get(value);
    return name === undefined ? value : { __static: name };
  }
  if (Array.isArray(value)) return value.map((v) => referenceStatics(v, statics));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, referenceStatics(v, statics)]));
  }
  return value;
}

/** Caller side: runtime options made sendable; static methods of the class go by name. */
export function encodeRuntimeOptions(workerClass: Function, runtimeOptions: object): unknown {
  const statics = staticFunctions(workerClass);
  return encodeOptions(referenceStatics(runtimeOptions, statics) as object);
}

/**
 * Host side: resolves `{ __static }` references against the class and refuses `{ __fn }` (source
 * text) unless allowed. Returns options ready for decodeOptions().
 */
export function resolveRuntimeOptions(encoded: unknown, cls: Function, allowSource: boolean, path = 'options'): unknown {
  if (Array.isArray(encoded)) return encoded.map((v, i) => resolveRuntimeOptions(v, cls, allowSource, `${path}[${i}]`));
  if (encoded !== null && typeof encoded === 'object') {
    const o = encoded as Record<string, unknown>;
    if (typeof o.__static === 'string') {
      const fn = (cls as any)[o.__static];
      if (typeof fn !== 'function') {
        throw new HostRefusedError(`${path}: ${cls.name}.${o.__static} is not a static function of the class on this host (is the host running the same version of the module?)`);
      }
      return fn;
    }
    if (o.__fn !== undefined) {
      if (!allowSource) {
        const name = (o.__fn as { name?: string }).name || 'anonymous';
        const option = path.replace(/^options\.(retry\.)?/, '').split(/[.[]/)[0];
        throw new HostRefusedError(
          `This host refuses functions sent as source text (option '${option}': function ${name}). ` +
            `Make it a static method of ${cls.name} (it then travels by name), use an error class or a built-in predicate (transientErrors, rateLimitErrors), ` +
            `or start the host with --allow-source-functions if you trust every client of this Redis`,
        );
      }
      return o;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveRuntimeOptions(v, cls, allowSource, `${path}.${k}`)]));
  }
  return encoded;
}

/** Turns a TaskWorker function the way this host allows: by export name among its modules, or by source when allowed. */
export function resolveTaskFunction(
  fn: PortableFunction | ((...a: unknown[]) => unknown),
  functions: ReadonlyMap<string, Function>,
  allowSource: boolean,
  moduleNames: readonly string[],
): (...a: unknown[]) => unknown {
  if (typeof fn === 'function') return fn;
  if (fn.__concurryFn === 'module') {
    const found = functions.get(fn.export);
    if (!found) {
      throw new HostRefusedError(
        `This host has no exported function '${fn.export}': it runs only functions exported by the modules it was started with (${moduleNames.join(', ') || 'none'}); start it with --module <file exporting ${fn.export}>`,
      );
    }
    return found as (...a: unknown[]) => unknown;
  }
  if (!allowSource) {
    throw new HostRefusedError(
      `This host refuses TaskWorker functions sent as source text (${fn.payload.name || 'anonymous'}): pass { module: import.meta.url, export: 'name' } for a function exported by a module the host was started with, or start the host with --allow-source-functions if you trust every client of this Redis`,
    );
  }
  return toCallable(fn) as (...a: unknown[]) => unknown;
}

export { isPortableFunction };
