/**
 * Retry options hold functions (predicates, validators) and error classes, which structured
 * clone can't carry. They travel as source text (checked for captured variables) and class names.
 */
import { matchesClass, rateLimitErrors, transientErrors } from '../classify.js';
import { deserializeFunction, serializeFunction, type SerializedFunction } from './functions.js';

/** Functions this package exports for use in options: sent by name, found again on the other side. */
const BUILTINS = new Map<string, (ctx: { error?: unknown }) => boolean>([
  ['transientErrors', transientErrors],
  ['rateLimitErrors', rateLimitErrors],
]);
const builtinNames = new Map<unknown, string>([...BUILTINS].map(([name, fn]) => [fn, name]));

type Compile = (payload: SerializedFunction) => unknown;

/** A cloneable value: functions as `{ __fn }` or `{ __builtin }`, error classes as `{ __errorClass }`. */
type Encoded = unknown;

function isErrorClass(v: unknown): v is abstract new (...a: never[]) => Error {
  return typeof v === 'function' && (v === Error || (v).prototype instanceof Error);
}

function encodeValue(value: unknown, where: string): Encoded {
  if (isErrorClass(value)) return { __errorClass: value.name };
  if (typeof value === 'function' && builtinNames.has(value)) return { __builtin: builtinNames.get(value) };
  if (typeof value === 'function') return { __fn: serializeFunction(value, where) };
  if (Array.isArray(value)) return value.map((v, i) => encodeValue(v, `${where}[${i}]`));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeValue(v, `${where}.${k}`)]));
  }
  return value;
}

function decodeValue(value: Encoded, compile: Compile): unknown {
  if (Array.isArray(value)) return value.map((v) => decodeValue(v, compile));
  if (value !== null && typeof value === 'object') {
    if ('__builtin' in (value)) return BUILTINS.get((value as { __builtin: string }).__builtin);
    if ('__fn' in (value)) return compile((value as { __fn: SerializedFunction }).__fn);
    if ('__errorClass' in (value)) {
      const name = (value as { __errorClass: string }).__errorClass;
      // A stand-in class with the same name: matchesClass compares names along the prototype chain.
      const standIn = { [name]: class extends Error {} }[name];
      return (ctx: { error?: unknown }) => matchesClass(ctx.error, standIn);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeValue(v, compile)]));
  }
  return value;
}

/** Retry options (or any options object) made cloneable. Throws naming the option whose function captures its scope. */
export function encodeOptions<T extends object>(options: T): unknown {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, encodeValue(v, `option '${k}'`)]));
}

/**
 * The other side of {@link encodeOptions}. `compile` turns a function's source text back into a
 * function: thread and process workers trust their own parent; a distributed host passes its gate.
 */
export function decodeOptions<T>(encoded: unknown, compile: Compile = deserializeFunction): T {
  return decodeValue(encoded, compile) as T;
}
