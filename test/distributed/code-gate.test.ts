/**
 * The host's code gate, in-process: the one place where received data may become callable. Deny
 * by default; static references only from the class's own static methods; TaskWorker classes
 * built behind it. A fast-check fuzz feeds it the wire's every smuggling shape, nested, with
 * prototype-pollution keys: no code runs, Object.prototype stays clean, refusals are HostRefusedError.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskWorker, Worker } from '../../src/index.js';
import { CodeGate, HostRefusedError, encodeRuntimeOptions, isTaskWorkerClass, referableStatics } from '../../src/modes/distributed/security.js';
import { toCallable } from '../../src/serialize/portable.js';
import { LabelledTasks, MyTasks, Tasks, Vault, triple } from './fixtures/sec-workers.js';
import { DANGEROUS_NAMES, smuggling } from './fuzz-values.js';

const g = globalThis as Record<string, unknown>;
const SOURCE = "function smuggled() { globalThis.__gateSmuggled = (globalThis.__gateSmuggled ?? 0) + 1; return 'ran'; }";
const functions = new Map([['triple', triple]]);
const deny = new CodeGate(false, functions, ['sec-workers.ts']);
const allow = new CodeGate(true, functions, ['sec-workers.ts']);

afterEach(() => {
  delete g.__gateSmuggled;
});

/** Runs `fn`; a refusal must be a HostRefusedError (or the TypeError of a call without a function). */
function refusedOrHarmless(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof HostRefusedError || error instanceof TypeError)) throw error;
    return error;
  }
}

describe('CodeGate (deny by default)', () => {
  it('TaskWorker functions: module references by export name; source refused; untagged values refused', () => {
    expect(deny.taskFunction({ __concurryFn: 'module', module: 'file:///anywhere.js', export: 'triple' })).toBe(triple);
    expect(() => deny.taskFunction({ __concurryFn: 'module', module: 'data:text/javascript,x', export: 'nope' })).toThrow(
      "This host has no exported function 'nope': it runs only functions exported by the modules it was started with (sec-workers.ts); start it with --module <file exporting nope>",
    );
    expect(() => deny.taskFunction({ __concurryFn: 'source', payload: { source: SOURCE, name: 'smuggled' } })).toThrow(
      /^This host refuses TaskWorker functions sent as source text \(smuggled\): pass \{ module: import\.meta\.url, export: 'name' \}/,
    );
    expect(() => deny.taskFunction({ payload: { source: SOURCE, name: 'smuggled' } })).toThrow(/refuses a TaskWorker function that is a plain object/);
    expect(() => deny.taskFunction({ __concurryFn: 'eval', payload: { source: SOURCE } })).toThrow("This host refuses a TaskWorker function of kind 'eval': only module references are accepted");
    for (const v of [null, 1, 'smuggled()', [SOURCE]]) expect(() => deny.taskFunction(v)).toThrow(HostRefusedError);
    expect(g.__gateSmuggled).toBeUndefined();
  });

  it('a host that opted in compiles only the tagged, well-formed shape', () => {
    const fn = allow.taskFunction({ __concurryFn: 'source', payload: { source: SOURCE, name: 'smuggled' } });
    expect(fn()).toBe('ran');
    expect(g.__gateSmuggled).toBe(1);
    for (const bad of [{ payload: { source: SOURCE } }, { __concurryFn: 'source', payload: { source: { toString: () => SOURCE } } }, { __concurryFn: 'source', payload: SOURCE }, { __concurryFn: 'source', payload: { source: SOURCE, name: 7 } }]) {
      expect(() => allow.taskFunction(bad)).toThrow(HostRefusedError);
    }
    expect(g.__gateSmuggled).toBe(1);
  });

  it("static references: the class's own static methods only", () => {
    expect([...referableStatics(Vault).keys()]).toEqual(['isOk']);
    for (const name of DANGEROUS_NAMES) {
      expect(() => deny.runtimeOptions({ retry: { retryUntil: { __static: name } } }, Vault), name).toThrow(
        `options.retry.retryUntil: '${name}' is not a static method of Vault on this host; only the class's own static methods can be referenced`,
      );
    }
    expect(() => allow.runtimeOptions({ retryUntil: { __static: 'constructor' } }, Vault)).toThrow(HostRefusedError);
    expect(deny.runtimeOptions<{ retry: { retryUntil: unknown } }>({ retry: { retryUntil: { __static: 'isOk' } } }, Vault).retry.retryUntil).toBe(Vault.isOk);
    // The caller encodes exactly what the host resolves.
    expect(encodeRuntimeOptions(Vault, { retryUntil: Vault.isOk })).toEqual({ retryUntil: { __static: 'isOk' } });
    // Inherited from a user superclass: allowed; from concurry's Worker base: not.
    class Sub extends Vault {}
    expect(referableStatics(Sub).get('isOk')).toBe(Vault.isOk);
    expect(referableStatics(Worker).size).toBe(0);
  });

  it('option functions as source text are refused anywhere in the options; decoding never compiles on its own', () => {
    const fn = { __fn: { source: SOURCE, name: 'smuggled' } };
    expect(() => deny.runtimeOptions({ retry: { retryUntil: fn } }, Vault)).toThrow(
      "This host refuses functions sent as source text (option 'retryUntil': function smuggled). Make it a static method of Vault",
    );
    expect(() => deny.runtimeOptions({ retry: { retryOn: [{ deep: [fn] }] } }, Vault)).toThrow(HostRefusedError);
    expect(() => deny.runtimeOptions({ x: { __fn: undefined } }, Vault)).toThrow(HostRefusedError);
    const compiled = allow.runtimeOptions<{ retry: { retryUntil: () => string } }>({ retry: { retryUntil: fn } }, Vault);
    expect(compiled.retry.retryUntil()).toBe('ran');
  });

  it('TaskWorker classes are built behind the gate: its own, re-exported, and extended', () => {
    expect([TaskWorker, Tasks, MyTasks].every(isTaskWorkerClass)).toBe(true);
    expect(isTaskWorkerClass(Vault)).toBe(false);
    for (const base of [TaskWorker, MyTasks]) {
      const Hosted = deny.taskWorkerClass(base) as unknown as new (fn?: unknown) => { submit(...a: unknown[]): unknown };
      expect(Hosted.name).toBe(base.name);
      expect(() => new Hosted({ payload: { source: SOURCE, name: 'smuggled' } })).toThrow(/refuses a TaskWorker function that is a plain object/);
      expect(() => new Hosted({ __concurryFn: 'source', payload: { source: SOURCE, name: 'smuggled' } })).toThrow(HostRefusedError);
      const open = new Hosted();
      expect(() => open.submit({ __concurryFn: 'source', payload: { source: SOURCE, name: 'smuggled' } })).toThrow(HostRefusedError);
      // Untagged: just an argument; with no function bound, a TypeError — not code.
      expect(() => open.submit({ payload: { source: SOURCE, name: 'smuggled' } })).toThrow('submit() needs a function');
      expect(open.submit({ __concurryFn: 'module', module: 'file:///x.js', export: 'triple' }, 2)).toBe(6);
      expect(new Hosted({ __concurryFn: 'module', module: 'x', export: 'triple' }).submit(3)).toBe(9);
    }
    // A subclass's own constructor arguments go through untouched; only what reaches TaskWorker's function slot is gated.
    const Labelled = deny.taskWorkerClass(LabelledTasks) as unknown as new (label: string, fn?: unknown) => { name(): string; submit(...a: unknown[]): unknown };
    expect(new Labelled('mine').name()).toBe('mine');
    expect(new Labelled('mine', { __concurryFn: 'module', module: 'x', export: 'triple' }).submit(2)).toBe(6);
    expect(() => new Labelled('mine', { payload: { source: SOURCE, name: 'smuggled' } })).toThrow(/refuses a TaskWorker function that is a plain object/);
    expect(g.__gateSmuggled).toBeUndefined();
  });

  it('toCallable turns only the two tagged shapes into code, never a guess', () => {
    expect(() => toCallable({ payload: { source: SOURCE, name: 'smuggled' } } as never)).toThrow('Expected a function, got an object that is not a function reference');
    expect(() => toCallable({ __concurryFn: 'source', payload: { source: 1 } } as never)).toThrow(TypeError);
    expect(() => toCallable(null as never)).toThrow('Expected a function, got null');
    expect(g.__gateSmuggled).toBeUndefined();
  });

  it('fuzz: nothing the wire can carry runs code or pollutes Object.prototype through a host that refuses source', () => {
    const HostedTasks = deny.taskWorkerClass(TaskWorker) as unknown as new (fn?: unknown) => { submit(...a: unknown[]): unknown };
    fc.assert(
      fc.property(smuggling(SOURCE), smuggling(SOURCE), fc.array(smuggling(SOURCE), { maxLength: 3 }), (options, ctorArg, args) => {
        const decoded = refusedOrHarmless(() => deny.runtimeOptions(options, Vault));
        // Whatever came out: call every function in it, as the runtime would with a predicate.
        for (const fn of functionsIn(decoded)) refusedOrHarmless(() => fn({ error: new Error('x'), result: SOURCE }));
        for (const arg of [ctorArg, undefined]) {
          const inst = refusedOrHarmless(() => new HostedTasks(arg));
          if (inst instanceof HostedTasks) refusedOrHarmless(() => inst.submit(...args));
        }
        refusedOrHarmless(() => deny.taskFunction(ctorArg));
        expect(g.__gateSmuggled).toBeUndefined();
        expect(Object.keys(Object.prototype)).toEqual([]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});

/** Functions found in a decoded options value (walks arrays and objects, not prototypes). */
function functionsIn(value: unknown, seen = new Set<unknown>()): Function[] {
  if (typeof value === 'function') return [value];
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value);
  return Object.values(value).flatMap((v) => functionsIn(v, seen));
}

describe('errors read from Redis', () => {
  it("a received error name never resolves to a member of Object.prototype (the caller's reply loop stays up)", async () => {
    const { decodeError } = await import('../../src/serialize/errors.js');
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const e = decodeError({ __concurryError: 1, name, message: 'm', props: {} }) as Error;
      expect(e, name).toBeInstanceOf(Error);
      expect(e.message).toBe('m');
      expect(e.name).toBe(name);
    }
  });
});

describe('CodeGate messages', () => {
  it('a host that opted in names what was malformed; refusals say what the value was', () => {
    expect(() => allow.taskFunction({ __concurryFn: 'source', payload: { source: 7, name: 'f' } })).toThrow(
      "This host refuses the TaskWorker function f: it is not in the form callers send ({ source, name } strings)",
    );
    expect(() => allow.runtimeOptions({ retry: { retryUntil: { __fn: { source: [], name: 'v' } } } }, Vault)).toThrow(
      "This host refuses the function in option 'retryUntil' (v): it is not in the form callers send ({ source, name } strings)",
    );
    expect(() => deny.taskFunction([SOURCE])).toThrow(/^This host refuses a TaskWorker function that is an array: /);
    expect(() => deny.taskFunction(new Map())).toThrow(/^This host refuses a TaskWorker function that is an object: /);
    expect(() => deny.taskFunction(SOURCE)).toThrow(/^This host refuses a TaskWorker function that is a string: /);
  });
});
