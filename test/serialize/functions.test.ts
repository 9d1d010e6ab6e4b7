import { describe, expect, it } from 'vitest';
import { deserializeFunction, serializeFunction } from '../../src/serialize/functions.js';

describe('functions sent by source', () => {
  it("survive esbuild's keepNames helper (__name), as tsx emits it for inner named functions", () => {
    // What tsx turns `(o) => { const pos = (x) => x > 0; return pos(o); }` into.
    const compiled = new Function('return (o) => { const pos = __name((x) => x > 0, "pos"); return pos(o) && pos.name; }')();
    const back = deserializeFunction(serializeFunction(compiled, "option 'retryUntil'")) as (o: number) => unknown;
    expect(back(1)).toBe('pos');
    expect(back(-1)).toBe(false);
  });

  it('a captured variable is named, with the fix; option functions are not offered module references', () => {
    const limit = 3;
    const fn = (s: string) => s.length > limit;
    expect(() => serializeFunction(fn, "option 'retryUntil'")).toThrow(
      "option 'retryUntil' (fn) uses 'limit' from its enclosing scope, which does not exist in the worker. Pass it as an argument, or import it inside the function with await import(...)",
    );
    expect(() => serializeFunction(fn, 'the task')).toThrow(/or reference an exported function: \{ module: import\.meta\.url, export: 'name' \}/);
  });
});
