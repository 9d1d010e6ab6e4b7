/**
 * Errors across threads and processes. Structured clone turns every Error subclass into a plain
 * Error, resets `name` and drops own properties (piscina#141). We send an explicit description and
 * rebuild it: name, message, stack, cause (recursively), own enumerable properties and
 * AggregateError.errors survive; built-in and concurry classes keep `instanceof`, and so do
 * registered classes — found by their class name, since SDK errors (openai's RateLimitError…)
 * keep the default `name` 'Error'. Known SDKs' classes register themselves (sdk-errors.ts).
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
  /** Class names from the error's own class up to Error, when the first is not `name`. */
  classes?: string[];
}

/** A fetch `Headers` in transit (openai's `error.headers`): rebuilt as Headers, so `.get()` still works. */
interface EncodedHeaders {
  __concurryHeaders: [string, string][];
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

/**
 * Registers every Error class found on `source` (a module namespace or an object with classes as
 * properties, e.g. `await import('openai')`), so errors of those classes keep `instanceof` when
 * they cross from a thread or process worker. Returns how many were registered.
 */
export function registerErrorClasses(source: object): number {
  let n = 0;
  for (const key of Object.keys(source)) {
    let value: unknown;
    try {
      value = (source as Record<string, unknown>)[key];
    } catch {
      continue;
    }
    // Never shadow a built-in or concurry class of the same name (an SDK's own 'TimeoutError'…).
    if (typeof value === 'function' && value.prototype instanceof Error && !(value.name in BUILTINS) && !(value.name in errorClassesByName)) {
      registerErrorClass(value as new (...args: any[]) => Error);
      n++;
    }
  }
  return n;
}

/** The class names of `error` from its own class up to (not including) Error, when they say more than its `name`. */
function classChain(error: object, name: string): string[] | undefined {
  const own = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof own !== 'string' || own === name || own === '' || own === 'Object') return undefined;
  const out: string[] = [];
  for (let p = Object.getPrototypeOf(error); p && p !== Error.prototype && p !== Object.prototype && out.length < 8; p = Object.getPrototypeOf(p)) {
    const n = p.constructor?.name;
    if (typeof n === 'string' && n !== '') out.push(n);
  }
  return out;
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
  if (typeof Headers === 'function' && value instanceof Headers) {
    return { __concurryHeaders: [...value.entries()] } satisfies EncodedHeaders;
  }
  if (typeof (value as any).entries === 'function' && typeof (value as any).get === 'function' && !(value instanceof Map)) {
    // Headers-like objects of other libraries: keep as a plain record
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
    // Non-enumerable own data too (zod 4 keeps ZodError.issues so); not '_' internals nor methods.
    for (const key of Object.getOwnPropertyNames(e)) {
      if (key in props || key.startsWith('_') || ['cause', 'errors', 'stack', 'message', 'name'].includes(key)) continue;
      const desc = Object.getOwnPropertyDescriptor(e, key);
      if (desc && 'value' in desc && typeof desc.value !== 'function') props[key] = cloneable(desc.value, depth);
    }
  }
  const name = String(e.name ?? 'Error');
  const out: EncodedError = { __concurryError: 1, name, message: String(e.message ?? ''), stack: e.stack, props };
  const classes = classChain(e, name);
  if (classes) out.classes = classes;
  if ('cause' in e && depth < 8) out.cause = encodeError(e.cause, depth + 1);
  if (Array.isArray((e as any).errors) && depth < 8) out.errors = (e as any).errors.map((x: unknown) => encodeError(x, depth + 1));
  return out;
}

function classFor(encoded: EncodedError): new (...args: any[]) => Error {
  // The most specific registered class of the chain (RateLimitError, else APIError, …), then by name.
  for (const c of encoded.classes ?? []) {
    const cls = extraClasses.get(c) ?? errorClassesByName[c];
    if (cls) return cls;
  }
  return extraClasses.get(encoded.name) ?? errorClassesByName[encoded.name] ?? BUILTINS[encoded.name] ?? Error;
}

function isEncodedHeaders(value: unknown): value is EncodedHeaders {
  return value !== null && typeof value === 'object' && Array.isArray((value as EncodedHeaders).__concurryHeaders);
}

function decodeValue(v: unknown): unknown {
  if (isEncodedError(v)) return decodeError(v);
  if (isEncodedHeaders(v)) return new Headers(v.__concurryHeaders);
  return v;
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
      error[k] = decodeValue(v);
    } catch {
      /* read-only property on the class: keep the class's value */
    }
  }
  return error;
}
