/**
 * Errors across threads and processes. Structured clone turns every Error subclass into a plain
 * Error, resets `name` and drops own properties (piscina#141). We send an explicit description and
 * rebuild it: name, message, stack, cause (recursively), own enumerable properties and
 * AggregateError.errors survive; built-in and concurry classes keep `instanceof`.
 */
import { errorClassesByName } from '../errors.js';

/** An error in transit. */
export interface EncodedError {
  __concurryError: 1;
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  errors?: unknown[];
  props: Record<string, unknown>;
}

const BUILTINS: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError: AggregateError as unknown as new (message?: string) => Error,
};

const extraClasses = new Map<string, new (...args: any[]) => Error>();

/** Lets errors of `cls` come back as real instances of it (e.g. classes from a shared module). */
export function registerErrorClass(cls: new (...args: any[]) => Error): void {
  extraClasses.set(cls.name, cls);
}

export function isEncodedError(value: unknown): value is EncodedError {
  return value !== null && typeof value === 'object' && (value as any).__concurryError === 1;
}

/** A cloneable copy of `value`, or a string stand-in when it cannot be cloned. */
function cloneable(value: unknown, depth: number): unknown {
  if (value instanceof Error) return encodeError(value, depth + 1);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? String(value) : value;
  }
  if (typeof (value as any).entries === 'function' && typeof (value as any).get === 'function' && !(value instanceof Map)) {
    // fetch Headers and similar: keep as a plain record
    try {
      return Object.fromEntries((value as any).entries());
    } catch {
      /* fall through */
    }
  }
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}

export function encodeError(error: unknown, depth = 0): EncodedError | unknown {
  if (!(error instanceof Error) && !(error !== null && typeof error === 'object' && 'message' in (error as object) && 'name' in (error as object))) {
    return cloneable(error, depth);
  }
  const e = error as Error & Record<string, unknown>;
  const props: Record<string, unknown> = {};
  if (depth < 8) {
    for (const key of Object.keys(e)) {
      if (key === 'cause' || key === 'errors' || key === 'stack' || key === 'message') continue;
      props[key] = cloneable(e[key], depth);
    }
  }
  const out: EncodedError = { __concurryError: 1, name: String(e.name ?? 'Error'), message: String(e.message ?? ''), stack: e.stack, props };
  if ('cause' in e && depth < 8) out.cause = encodeError(e.cause, depth + 1);
  if (Array.isArray((e as any).errors) && depth < 8) out.errors = (e as any).errors.map((x: unknown) => encodeError(x, depth + 1));
  return out;
}

function classFor(encoded: EncodedError): new (...args: any[]) => Error {
  // Own names only: a received name like 'constructor' or 'toString' must not reach Object.prototype.
  const name = String(encoded.name);
  return extraClasses.get(name) ?? (Object.hasOwn(errorClassesByName, name) ? errorClassesByName[name] : undefined) ?? (Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined) ?? Error;
}

export function decodeError(value: unknown): unknown {
  if (!isEncodedError(value)) return value;
  const cls = classFor(value);
  const error = Object.create(cls.prototype) as Error & Record<string, unknown>;
  Object.defineProperty(error, 'message', { value: value.message, writable: true, configurable: true, enumerable: false });
  if (value.stack !== undefined) Object.defineProperty(error, 'stack', { value: value.stack, writable: true, configurable: true, enumerable: false });
  if (error.name !== value.name) Object.defineProperty(error, 'name', { value: value.name, writable: true, configurable: true, enumerable: false });
  if ('cause' in value) Object.defineProperty(error, 'cause', { value: decodeError(value.cause), writable: true, configurable: true, enumerable: false });
  if (value.errors) Object.defineProperty(error, 'errors', { value: value.errors.map(decodeError), writable: true, configurable: true, enumerable: false });
  for (const [k, v] of Object.entries(value.props)) {
    try {
      error[k] = isEncodedError(v) ? decodeError(v) : v;
    } catch {
      /* read-only property on the class: keep the class's value */
    }
  }
  return error;
}
