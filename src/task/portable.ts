/**
 * Functions that can cross into another thread or process: by source text (rebuilt there, no
 * closures allowed — checked before sending) or by module reference (imported there).
 */
import { serializeFunction, deserializeFunction } from '../serialize/functions.js';

/** A function in a form that survives structured cloning. */
export type PortableFunction =
  | { __concurryFn: 'source'; payload: ReturnType<typeof serializeFunction> }
  | { __concurryFn: 'module'; module: string; export: string };

export function isPortableFunction(value: unknown): value is PortableFunction {
  return value !== null && typeof value === 'object' && typeof (value as any).__concurryFn === 'string';
}

/** Makes `fn` portable; throws (naming the captured variable and the fix) when it closes over its scope. */
export function toPortableFunction(fn: ((...a: any[]) => unknown) | { module: string; export: string }, what: string): PortableFunction {
  if (typeof fn === 'function') return { __concurryFn: 'source', payload: serializeFunction(fn, what) };
  return { __concurryFn: 'module', module: fn.module, export: fn.export };
}

const revived = new Map<string, (...a: unknown[]) => unknown>();

/** The callable for a function or a portable function (a Promise when a module must be imported first). */
export function toCallable(
  fn: PortableFunction | ((...a: unknown[]) => unknown),
): ((...a: unknown[]) => unknown) | Promise<(...a: unknown[]) => unknown> {
  if (typeof fn === 'function') return fn;
  if (fn.__concurryFn === 'module') {
    const key = `${fn.module}#${fn.export}`;
    const hit = revived.get(key);
    if (hit) return hit;
    return import(fn.module).then((mod) => {
      const f = mod[fn.export];
      if (typeof f !== 'function') throw new TypeError(`${fn.module} has no exported function '${fn.export}'`);
      revived.set(key, f);
      return f;
    });
  }
  return deserializeFunction(fn.payload) as (...a: unknown[]) => unknown;
}
