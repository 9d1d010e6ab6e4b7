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

/**
 * An Error class, whatever its constructor takes (`never[]` accepts every parameter list). Decoding
 * builds instances from `prototype` without calling the constructor, hence the prototype in the type.
 */
type ErrorClass = (new (...args: never[]) => Error) & { prototype: Error };

const extraClasses = new Map<string, ErrorClass>();

/** Lets errors of `cls` come back as real instances of it (e.g. classes from a shared module). */
export function registerErrorClass(cls: ErrorClass): void {
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
      registerErrorClass(value as ErrorClass);
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
  for (let p = prototypeOf(error); p && p !== Error.prototype && p !== Object.prototype && out.length < 8; p = prototypeOf(p)) {
    const n = p.constructor?.name;
    if (typeof n === 'string' && n !== '') out.push(n);
  }
  return out;
}

/** An object's prototype, typed as far as {@link classChain} reads it. */
function prototypeOf(value: object): { constructor?: { name?: unknown } } | null {
  return Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
}

export function isEncodedError(value: unknown): value is EncodedError {
  return value !== null && typeof value === 'object' && (value as Partial<EncodedError>).__concurryError === 1;
}

/**
 * Reads `obj[key]`. Values come from user code: a getter or a Proxy trap may throw, and encoding an
 * error must never throw (in a thread/process worker that would crash it), so a failed read
 * becomes a string saying what happened.
 */
export function readProperty(obj: object, key: PropertyKey): unknown {
  try {
    return (obj as Record<PropertyKey, unknown>)[key];
  } catch (error) {
    return `[reading ${String(key)} threw: ${describeThrown(error)}]`;
  }
}

/** `String(value)` for any value: null-prototype objects, throwing toString/Symbol.toPrimitive, Proxies. */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return '[value that cannot be printed]';
    }
  }
}

/** A one-line description of something thrown, whatever it is (its message when it has a readable one). */
export function describeThrown(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const message = readProperty(error, 'message');
    if (typeof message === 'string') return message;
  }
  return safeString(error);
}

/** True for an Error, or something shaped like one; false for anything that can't be inspected. */
function isErrorLike(value: unknown): boolean {
  try {
    return value instanceof Error || (value !== null && typeof value === 'object' && 'message' in value && 'name' in value);
  } catch {
    return false;
  }
}

/** An object with `entries()` and `get()`, as the Headers classes of fetch polyfills have. */
interface HeadersLike {
  entries(): Iterable<readonly [PropertyKey, unknown]>;
  get(name: string): unknown;
}

function isHeadersLike(value: object): value is HeadersLike {
  const like = value as Partial<Record<keyof HeadersLike, unknown>>;
  return typeof like.entries === 'function' && typeof like.get === 'function';
}

/** A cloneable copy of `value`, or a string stand-in when it cannot be cloned. */
function cloneable(value: unknown, depth: number): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    return typeof value === 'symbol' ? value.toString() : value;
  }
  if (typeof value === 'function') return safeString(value);
  if (isErrorLike(value)) return encodeError(value, depth + 1);
  try {
    if (typeof Headers === 'function' && value instanceof Headers) {
      return { __concurryHeaders: [...value.entries()] } satisfies EncodedHeaders;
    }
    if (isHeadersLike(value) && !(value instanceof Map)) {
      // Headers-like objects of other libraries: keep as a plain record
      return Object.fromEntries(value.entries());
    }
  } catch {
    /* fall through */
  }
  try {
    return structuredClone(value);
  } catch {
    return safeString(value);
  }
}

/**
 * A cloneable description of `error` for another thread or process. Never throws: parts that
 * cannot be read or copied (throwing getters, Proxies, functions) travel as strings, and cause
 * chains are cut at depth 8 (so circular causes end). An {@link EncodedError} for anything
 * error-like; other thrown values come back as a cloneable copy or a string stand-in.
 */
export function encodeError(error: unknown, depth = 0): unknown {
  if (!isErrorLike(error)) return cloneable(error, depth);
  const e = error as Error & Record<string, unknown>;
  const props: Record<string, unknown> = {};
  if (depth < 8) {
    let keys: string[] = [];
    try {
      keys = Object.keys(e);
    } catch {
      /* a Proxy that refuses to list its keys: send none */
    }
    for (const key of keys) {
      if (key === 'cause' || key === 'errors' || key === 'stack' || key === 'message') continue;
      props[key] = cloneable(readProperty(e, key), depth);
    }
  }
  const name = readProperty(e, 'name');
  const message = readProperty(e, 'message');
  const stack = readProperty(e, 'stack');
  const out: EncodedError = {
    __concurryError: 1,
    name: name === undefined ? 'Error' : safeString(name),
    message: message === undefined ? '' : safeString(message),
    stack: stack === undefined ? undefined : safeString(stack),
    props,
  };
  if (depth < 8) {
    let hasCause = false;
    try {
      hasCause = 'cause' in e;
    } catch {
      /* unreadable: no cause */
    }
    if (hasCause) out.cause = encodeError(readProperty(e, 'cause'), depth + 1);
    const errors = readProperty(e, 'errors');
    if (Array.isArray(errors)) {
      try {
        out.errors = errors.map((x: unknown) => encodeError(x, depth + 1));
      } catch {
        /* a hostile array: keep the error without its list */
      }
    }
    // Non-enumerable own data too (zod 4 keeps ZodError.issues so); not '_' internals nor methods.
    try {
      for (const key of Object.getOwnPropertyNames(e)) {
        if (key in props || key.startsWith('_') || ['cause', 'errors', 'stack', 'message', 'name'].includes(key)) continue;
        const desc = Object.getOwnPropertyDescriptor(e, key);
        if (desc && 'value' in desc && typeof desc.value !== 'function') props[key] = cloneable(desc.value, depth);
      }
    } catch {
      /* a Proxy that refuses to describe itself: its enumerable data is already in props */
    }
  }
  try {
    const classes = classChain(e, out.name);
    if (classes) out.classes = classes;
  } catch {
    /* a hostile prototype chain: decoded by name only */
  }
  return out;
}

function classFor(encoded: EncodedError): ErrorClass {
  // The most specific registered class of the chain (RateLimitError, else APIError, …), then by name.
  // Own names only: a received name like 'constructor' or 'toString' must not reach Object.prototype.
  const known = (name: string) =>
    extraClasses.get(name) ?? (Object.hasOwn(errorClassesByName, name) ? errorClassesByName[name] : undefined);
  for (const c of Array.isArray(encoded.classes) ? encoded.classes : []) {
    const cls = known(String(c));
    if (cls) return cls;
  }
  const name = String(encoded.name);
  return known(name) ?? (Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined) ?? Error;
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
