/** Names that belong to the Worker base class or lifecycle and are never remote methods. */
const RESERVED = new Set(['constructor', 'limits', 'context']);

const cache = new WeakMap<Function, string[]>();

/**
 * The public methods of a worker class: functions on its prototype chain below `Worker`
 * (or `Object`), excluding the constructor and names starting with `_` or `#`.
 */
export function publicMethodNames(workerClass: Function): string[] {
  const hit = cache.get(workerClass);
  if (hit) return hit;
  const names = new Set<string>();
  let proto = workerClass.prototype;
  while (proto && proto !== Object.prototype && !Object.hasOwn(proto.constructor ?? {}, Symbol.for('concurry.WorkerBase'))) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (RESERVED.has(name) || name.startsWith('_')) continue;
      const desc = Object.getOwnPropertyDescriptor(proto, name);
      if (desc && typeof desc.value === 'function') names.add(name);
    }
    proto = Object.getPrototypeOf(proto);
  }
  const list = [...names];
  cache.set(workerClass, list);
  return list;
}
