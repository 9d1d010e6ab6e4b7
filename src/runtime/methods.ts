/**
 * Names a handle reserves: its controls (`ready`, `stop`, `on`, `off`, `stats`, `circuit`), `then`
 * (a handle must never look like a promise) and what the `Worker` base class gives every instance
 * (`limits`, `context`). A worker class defining a method with one of these names is refused at
 * `options()`; the handle's type leaves them out. The one list used by the runtime, the builder
 * and the handle type, so they cannot disagree.
 */
export const RESERVED_HANDLE_KEYS = ['ready', 'stop', 'on', 'off', 'stats', 'circuit', 'then', 'limits', 'context'] as const;

/** One of {@link RESERVED_HANDLE_KEYS}. */
export type ReservedHandleKey = (typeof RESERVED_HANDLE_KEYS)[number];

const RESERVED: ReadonlySet<string> = new Set(RESERVED_HANDLE_KEYS);

/** Whether `name` is one of {@link RESERVED_HANDLE_KEYS}. */
export function isReservedHandleKey(name: string): name is ReservedHandleKey {
  return RESERVED.has(name);
}

/** A class of any constructor signature: only its prototype chain is read. */
type AnyClass = abstract new (...args: never[]) => unknown;

const cache = new WeakMap<AnyClass, string[]>();

/** Whether `proto` is the prototype of the `Worker` base class (which marks itself with this symbol). */
function isWorkerBase(proto: object): boolean {
  const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  return typeof ctor === 'function' && Object.hasOwn(ctor, Symbol.for('concurry.WorkerBase'));
}

/**
 * The public methods of a worker class: functions on its prototype chain below `Worker`
 * (or `Object`), excluding the constructor and names starting with `_` or `#`. Reserved names are
 * kept, so the builder can refuse them by name.
 */
export function publicMethodNames(workerClass: AnyClass): string[] {
  const hit = cache.get(workerClass);
  if (hit) return hit;
  const names = new Set<string>();
  let proto: unknown = workerClass.prototype;
  while (proto !== null && typeof proto === 'object' && proto !== Object.prototype && !isWorkerBase(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || name.startsWith('_')) continue;
      const desc = Object.getOwnPropertyDescriptor(proto, name);
      if (desc && typeof desc.value === 'function') names.add(name);
    }
    proto = Object.getPrototypeOf(proto);
  }
  const list = [...names];
  cache.set(workerClass, list);
  return list;
}
