import { isThenable } from './future.js';

/**
 * Futures (and other thenables) inside call arguments — at the top level or nested in arrays,
 * plain objects, Maps and Sets — are awaited before a call is sent.
 */

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === Object.prototype || proto === null;
}

/** True when `value` is or contains a thenable (walking arrays, plain objects, Maps, Sets). */
export function containsThenable(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return typeof value === 'function' && isThenable(value);
  if (isThenable(value)) return true;
  if (depth > 32) return false;
  if (Array.isArray(value)) {
    for (const v of value) if (containsThenable(v, depth + 1)) return true;
    return false;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) if (containsThenable(k, depth + 1) || containsThenable(v, depth + 1)) return true;
    return false;
  }
  if (value instanceof Set) {
    for (const v of value) if (containsThenable(v, depth + 1)) return true;
    return false;
  }
  if (isPlainObject(value)) {
    for (const k in value) if (containsThenable(value[k], depth + 1)) return true;
  }
  return false;
}

/** True when any argument holds a thenable. Cheap for primitives: the common case. */
export function argsNeedUnwrapping(args: unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== null && (typeof a === 'object' || typeof a === 'function') && containsThenable(a)) return true;
  }
  return false;
}

/** A copy of `value` with every thenable replaced by its value; rejects when one rejects. */
export async function unwrapDeep(value: unknown, depth = 0): Promise<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
  if (isThenable(value)) return unwrapDeep(await value, depth + 1);
  if (depth > 32 || !containsThenable(value)) return value;
  if (Array.isArray(value)) return Promise.all(value.map((v) => unwrapDeep(v, depth + 1)));
  if (value instanceof Map) {
    const entries = await Promise.all(
      [...value].map(async ([k, v]) => [await unwrapDeep(k, depth + 1), await unwrapDeep(v, depth + 1)] as const),
    );
    return new Map(entries);
  }
  if (value instanceof Set) return new Set(await Promise.all([...value].map((v) => unwrapDeep(v, depth + 1))));
  // Here `value` is a plain object (containsThenable walks no other kind): copy it, keeping its prototype (Object or null).
  const source = value as Record<string, unknown>;
  const out = Object.create(Object.getPrototypeOf(source) as object | null) as Record<string, unknown>;
  await Promise.all(
    Object.keys(source).map(async (k) => {
      out[k] = await unwrapDeep(source[k], depth + 1);
    }),
  );
  return out;
}
