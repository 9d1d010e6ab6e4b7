/**
 * fast-check arbitraries for what an attacker puts on the wire: every shape that once became code
 * (tagged and untagged source, module references, static references to dangerous names, option
 * functions), prototype-pollution keys, and random values — nested into each other.
 */
import fc from 'fast-check';

/** Names that must never resolve to something callable. */
export const DANGEROUS_NAMES = ['constructor', '__proto__', 'prototype', 'call', 'apply', 'bind', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'options', 'name', 'length', 'caller', 'arguments', 'Inner', 'nativeFn', 'bound'];
const KEYS = ['__proto__', 'constructor', 'prototype', '__fn', '__static', '__builtin', '__errorClass', '__concurryFn', 'payload', 'source', 'name', 'module', 'export', 'retry', 'retryUntil', 'retryOn', 'numRetries', 'maxConcurrency', 'then', 'toJSON'];

/** Values that try to become code: `source` is text that, if run, leaves a trace. */
export function smuggling(source: string): fc.Arbitrary<unknown> {
  const payload = fc.oneof(
    fc.constant({ source, name: 'smuggled' }),
    fc.constant({ source }),
    fc.record({ source: fc.constant(source), name: fc.anything() }),
    fc.anything(),
  );
  const shapes = fc.oneof(
    payload.map((p) => ({ payload: p })),
    payload.map((p) => ({ __concurryFn: 'source', payload: p })),
    fc.record({ __concurryFn: fc.constantFrom('source', 'module', 'eval', 'Function', '__proto__', ''), payload, module: fc.constantFrom(`data:text/javascript,${encodeURIComponent(`${source};smuggled()`)}`, 'node:fs', 'file:///x.js'), export: fc.constantFrom('smuggled', 'triple', 'constructor', '__proto__') }, { requiredKeys: ['__concurryFn'] }),
    payload.map((p) => ({ __fn: p })),
    fc.constantFrom(...DANGEROUS_NAMES, 'isOk').map((n) => ({ __static: n })),
    fc.constantFrom('Error', 'constructor', '__proto__', 'toString').map((n) => ({ __errorClass: n })),
    fc.constantFrom('transientErrors', 'constructor', '__proto__').map((n) => ({ __builtin: n })),
    fc.constant(JSON.parse('{"__proto__": {"polluted": "yes"}}')),
    fc.constant(source),
  );
  // Mostly the shapes that once became code; sometimes anything at all.
  const leaf = fc.oneof(
    { weight: 4, arbitrary: shapes },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 2, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true }) },
  );
  return fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, { weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: tie('object') }, { weight: 1, arbitrary: tie('array') }),
    object: fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), tie('value'), { maxKeys: 4 }), // own __proto__ keys included, as JSON.parse and v8.deserialize make them
    array: fc.array(tie('value'), { maxLength: 3 }),
  })).value;
}
