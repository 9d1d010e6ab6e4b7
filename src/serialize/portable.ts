/**
 * Functions that can cross into another thread or process: by source text (rebuilt there, no
 * closures allowed — checked before sending) or by module reference (imported there).
 */
import { serializeFunction, deserializeFunction, type SerializedFunction } from './functions.js';

/** A function in a form that survives structured cloning. */
export type PortableFunction =
  | { __concurryFn: 'source'; payload: SerializedFunction }
  | { __concurryFn: 'module'; module: string; export: string };

export function isPortableFunction(value: unknown): value is PortableFunction {
  return value !== null && typeof value === 'object' && typeof (value as { __concurryFn?: unknown }).__concurryFn === 'string';
}

/** Makes `fn` portable; throws (naming the captured variable and the fix) when it closes over its scope. */
export function toPortableFunction(fn: ((...a: never[]) => unknown) | { module: string; export: string }, what: string): PortableFunction {
  if (typeof fn === 'function') return { __concurryFn: 'source', payload: serializeFunction(fn, what) };
  return { __concurryFn: 'module', module: fn.module, export: fn.export };
}

const revived = new Map<string, (...a: unknown[]) => unknown>();

/**
 * The callable for a function or a portable function (a Promise when a module must be imported
 * first). Only the two tagged shapes are turned into code; anything else is refused, never guessed at.
 */
export function toCallable(
  fn: PortableFunction | ((...a: unknown[]) => unknown),
): ((...a: unknown[]) => unknown) | Promise<(...a: unknown[]) => unknown> {
  if (typeof fn === 'function') return fn;
  const tagged = fn as { __concurryFn?: unknown; module?: unknown; export?: unknown; payload?: { source?: unknown; name?: unknown } } | null;
  if (tagged?.__concurryFn === 'module' && typeof tagged.module === 'string' && typeof tagged.export === 'string') {
    const { module, export: name } = tagged;
    const key = `${module}#${name}`;
    const hit = revived.get(key);
    if (hit) return hit;
    return import(module).then((mod: Record<string, unknown>) => {
      const f = mod[name];
      if (typeof f !== 'function') throw new TypeError(`${module} has no exported function '${name}'`);
      // A module export is only known to be a function at run time; its signature is the caller's contract.
      const callable = f as (...a: unknown[]) => unknown;
      revived.set(key, callable);
      return callable;
    });
  }
  const payload = tagged?.__concurryFn === 'source' ? tagged.payload : undefined;
  if (payload !== null && typeof payload === 'object' && typeof payload.source === 'string' && typeof payload.name === 'string') {
    return deserializeFunction({ source: payload.source, name: payload.name });
  }
  throw new TypeError(`Expected a function, got ${fn === null ? 'null' : typeof fn === 'object' ? 'an object that is not a function reference' : typeof fn}`);
}
