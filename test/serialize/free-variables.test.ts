/**
 * The free-variable check of functions sent by source (TaskWorker functions; predicates and
 * validators in thread/process modes) uses a real parser (acorn + eslint-scope). The cases the
 * hand-written tokenizer got wrong, every form a function's text takes, the allowed globals, the
 * error message, the cache — and a property test over a grammar of self-contained functions:
 * accepted as they are; with one free variable put in any one place, refused naming it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deserializeFunction, freeVariables, serializeFunction } from '../../src/serialize/functions.js';
import { UnparsableSourceError, parseCount } from '../../src/serialize/free-variables.js';
import { render, selfContainedFunction } from './function-grammar.js';

/** A real function whose text is `source` (as `toString()` gives it), in whatever form the text is. */
function functionOf(source: string, name: string): Function {
  const fn = deserializeFunction({ source, name });
  expect(fn.toString()).toBe(source);
  return fn;
}

describe('free variables, found by a parser', () => {
  it('accepts what the tokenizer refused: several declarators, two loop variables, class fields, labelled continue', () => {
    expect(freeVariables('function f() { let a = 0, b = 1; return a + b; }')).toEqual([]);
    expect(freeVariables('(n) => { let s = 0; for (let i = 0, j = n; i < j; i++) s += i; return s; }')).toEqual([]);
    expect(freeVariables('function f() { class Acc { total = 0; static zero = new Acc(); add(x) { this.total += x; return this; } } return new Acc().add(1).total; }')).toEqual([]);
    expect(freeVariables('function f(rows) { let n = 0; outer: for (const r of rows) { for (const c of r) { if (c < 0) continue outer; n += c; } } return n; }')).toEqual([]);
  });

  it('refuses what scoping says is free, which the tokenizer accepted', () => {
    // Declared in one block, read in another.
    expect(freeVariables('function f(c) { if (c) { let hidden = 1; } return hidden; }')).toEqual(['hidden']);
    // A default value reading a later parameter's name from the enclosing scope; a shadowed name in a nested function.
    expect(freeVariables('function f(a = limit) { return a; }')).toEqual(['limit']);
    expect(freeVariables('function f() { const g = () => { const k = 1; }; return k; }')).toEqual(['k']);
  });

  it('handles every form a function takes, and real functions compiled by the test runner', () => {
    const forms = [
      'function f(a) { return a; }',
      'async function f(a) { return await a; }',
      'function* f(a) { yield a; }',
      'async function* f(a) { yield* [a]; }',
      'function (a) { return a; }',
      '(a, { b = a } = {}) => a + b',
      'a => a',
      'async a => a',
      'async (a) => { return a; }',
      'class K { m(a) { return a; } }',
      'm(a) { return a; }',
      'async m(a) { return a; }',
      '*m(a) { yield a; }',
      'async *m(a) { yield a; }',
      'get v() { return 1; }',
      'set v(x) { void x; }',
      'get() { return 1; }',
      'async() { return 1; }',
      '[Symbol.iterator]() { return [][Symbol.iterator](); }',
    ];
    for (const source of forms) expect(freeVariables(source), source).toEqual([]);
    const local = 3;
    const obj = {
      method(a: number) {
        return a + 1;
      },
      get getter() {
        return 2;
      },
      withCapture() {
        return local;
      },
    };
    expect(freeVariables(obj.method)).toEqual([]);
    expect(freeVariables(Object.getOwnPropertyDescriptor(obj, 'getter')!.get!)).toEqual([]);
    expect(freeVariables(obj.withCapture)).toEqual(['local']);
    const getter = deserializeFunction(serializeFunction(Object.getOwnPropertyDescriptor(obj, 'getter')!.get!));
    expect(getter.call({})).toBe(2);
    expect((deserializeFunction(serializeFunction(obj.method)) as (a: number) => number)(1)).toBe(2);
  });

  it('allows the globals of JavaScript and Node', () => {
    const src =
      '() => [Math, JSON, Promise, Map, Array, Object, Symbol, BigInt, Date, RegExp, Error, Intl, console, process, Buffer, fetch, structuredClone, URL, URLSearchParams, ' +
      'TextEncoder, TextDecoder, AbortController, performance, crypto, setTimeout, clearTimeout, setImmediate, queueMicrotask, globalThis, undefined, NaN, Infinity, require, __name]';
    expect(freeVariables(src)).toEqual([]);
  });

  it('names the variable and the fix; unparsable text says why', () => {
    const limit = 3;
    const factor = 2;
    const fn = (s: string) => s.length > limit * factor;
    expect(() => serializeFunction(fn, 'the submitted function')).toThrow(
      "the submitted function (fn) uses 'limit' from its enclosing scope (also: factor), which does not exist in the worker. " +
        "Pass it as an argument, or import it inside the function with await import(...), or reference an exported function: { module: import.meta.url, export: 'name' }",
    );
    class Secretive {
      #x = 1;
      read() {
        return this.#x;
      }
    }
    expect(() => serializeFunction(new Secretive().read, 'the submitted function')).toThrow(
      /^the submitted function \(read\) cannot be sent by source: its text is not a function that stands on its own \(.*\), e\.g\. a method using its class's #private members; reference an exported function instead/,
    );
    // The parser's own error stays reachable as the cause (its message is already quoted above).
    let thrown: unknown;
    try {
      serializeFunction(new Secretive().read, 'the submitted function');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).cause).toBeInstanceOf(UnparsableSourceError);
  });

  it('parses each source text once: submitting the same function (or a new closure with the same text) again does not re-parse', () => {
    const make = () => (x: number) => x * 7 + 0.5;
    serializeFunction(make());
    const before = parseCount();
    for (let i = 0; i < 1000; i++) serializeFunction(make(), 'the submitted function');
    const same = make();
    for (let i = 0; i < 1000; i++) serializeFunction(same);
    expect(parseCount()).toBe(before);
  });
});

describe('property: a grammar of self-contained functions', () => {
  const FREE = 'capturedFromOutside';

  it('every generated function is accepted as it is, and rebuilt with the same text', () => {
    fc.assert(
      fc.property(selfContainedFunction, (f) => {
        const source = render(f);
        expect(freeVariables(source)).toEqual([]);
        const payload = serializeFunction(functionOf(source, f.name), 'the submitted function');
        expect(payload.source).toBe(source);
      }),
      { numRuns: 400 },
    );
  });

  it('with one free variable put in any one place, it is refused naming that variable', () => {
    fc.assert(
      fc.property(selfContainedFunction, fc.nat(), (f, at) => {
        const present = [...f.template.matchAll(/\0(\d+)\0/g)].map((m) => Number(m[1]));
        const site = present[at % present.length]!;
        const source = render(f, site, FREE);
        expect(freeVariables(source)).toEqual([FREE]);
        const fn = functionOf(source, f.name);
        expect(() => serializeFunction(fn, 'the submitted function')).toThrow(`the submitted function (${f.name || 'anonymous'}) uses '${FREE}' from its enclosing scope, which does not exist in the worker`);
      }),
      { numRuns: 400 },
    );
  });
});
