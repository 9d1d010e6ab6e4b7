/**
 * Functions that cross into another thread or process travel as source text and are rebuilt
 * there. A function that reads variables from its enclosing scope would silently break on the
 * other side, so we find its free variables before sending (with a real parser, see
 * free-variables.ts) and refuse with the name and the fix.
 */
import { analyzeFunctionSource, UnparsableSourceError } from './free-variables.js';

/** A function as source text. */
export interface SerializedFunction {
  source: string;
  name: string;
}

/** A function rebuilt from source text: what it takes and returns is only known to the sender. */
type RebuiltFunction = (...args: unknown[]) => unknown;

/** Any function value, whatever its parameters (`never[]` accepts every parameter list). */
type AnyFunction = (...args: never[]) => unknown;

/** Names a function may use without capturing them: JS and Node globals. */
const GLOBALS = new Set([
  ...Object.getOwnPropertyNames(globalThis),
  '__name', 'undefined', 'NaN', 'Infinity', 'globalThis', 'arguments', 'this', 'super', 'new', 'import', 'require', 'module', 'exports',
  '__dirname', '__filename', 'process', 'Buffer', 'console', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout',
  'clearInterval', 'clearImmediate', 'queueMicrotask', 'structuredClone', 'fetch', 'URL', 'URLSearchParams', 'TextEncoder',
  'TextDecoder', 'AbortController', 'AbortSignal', 'performance', 'crypto',
]);

/**
 * Identifiers the function reads that it does not declare and that are not globals, in order of
 * first use. Exact ECMAScript scoping (see free-variables.ts); cached per source text.
 */
export function freeVariables(fn: AnyFunction | string): string[] {
  const { free } = analyzeFunctionSource(typeof fn === 'string' ? fn : fn.toString());
  return free.filter((name) => !GLOBALS.has(name));
}

/**
 * The last function serialized: submitting the same function in a loop skips even `toString()`.
 * One entry, not a WeakMap: a WeakMap entry per fresh closure (`submit((x) => …)` in a loop) costs
 * more in garbage collection than the source-text cache it would save.
 */
let last: { fn: unknown; out: SerializedFunction } | undefined;

/**
 * Turns `fn` into source text for another thread/process. Throws a TypeError when `fn` is not a
 * function (hence `unknown`: callers pass option values as they come), or naming the first variable
 * it takes from its enclosing scope, and the fix.
 */
export function serializeFunction(fn: unknown, what = 'the function'): SerializedFunction {
  if (typeof fn !== 'function') throw new TypeError(`${what} must be a function, got ${typeof fn}`);
  // The hot path: the same function submitted again is checked once.
  if (last?.fn === fn) return last.out;
  // Vite/vitest rewrite `import()` into a helper that only exists in their module runner.
  const source = fn.toString().replace(/__vite_ssr_dynamic_import__\(/g, 'import(');
  if (/\[native code\]/.test(source)) {
    throw new TypeError(`${what} (${fn.name || 'anonymous'}) is a native or bound function and cannot be sent by source; pass a module reference { module, export } instead`);
  }
  let free: string[];
  try {
    free = freeVariables(source);
  } catch (error) {
    if (!(error instanceof UnparsableSourceError)) throw error;
    throw new TypeError(
      `${what} (${fn.name || 'anonymous'}) cannot be sent by source: its text is not a function that stands on its own (${error.message}), ` +
        `e.g. a method using its class's #private members` +
        (what.includes('option') ? '' : `; reference an exported function instead: { module: import.meta.url, export: 'name' }`),
      { cause: error },
    );
  }
  if (free.length > 0) {
    throw new TypeError(
      `${what} (${fn.name || 'anonymous'}) uses '${free[0]}' from its enclosing scope${free.length > 1 ? ` (also: ${free.slice(1).join(', ')})` : ''}, ` +
        `which does not exist in the worker. Pass it as an argument, or import it inside the function with await import(...)` +
        (what.includes('option') ? '' : `, or reference an exported function: { module: import.meta.url, export: 'name' }`),
    );
  }
  const out = { source, name: fn.name };
  last = { fn, out };
  return out;
}

const cache = new Map<string, RebuiltFunction>();

function keepName<F extends AnyFunction>(fn: F, name: string): F {
  return Object.defineProperty(fn, 'name', { value: name, configurable: true });
}

/** Rebuilds a function from its source (cached by source). Only ever used on functions the user's own process sent. */
export function deserializeFunction(payload: SerializedFunction): RebuiltFunction {
  const hit = cache.get(payload.source);
  if (hit) return hit;
  const src = payload.source;
  // Method shorthand ("name(a) { … }") is not an expression; make it one. An accessor ("get x() { … }",
  // named "get x") is taken from its property descriptor.
  const isExpression = /^(async\s+)?(function\b|\(|[\w$]+\s*=>|async\s*\()/.test(src) || /^class\b/.test(src);
  const accessor = /^(get|set) (.+)$/.exec(payload.name);
  const text = isExpression
    ? src
    : accessor && /^(get|set)\s/.test(src)
      ? `Object.getOwnPropertyDescriptor({ ${src} }, ${JSON.stringify(accessor[2])}).${accessor[1]}`
      : `({ ${src} })[${JSON.stringify(payload.name)}]`;
  // esbuild's keepNames (tsx) wraps inner named functions in __name(fn, "name"): give it one.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- rebuilding a function from its source text is this module's job
  const build = new Function('__name', `return (${text});`) as (name: typeof keepName) => RebuiltFunction;
  const fn = build(keepName);
  if (cache.size > 1000) cache.clear();
  cache.set(src, fn);
  return fn;
}
