/**
 * Issue 22 item 5: values that attack the runtime. A hostile result or error fails that one call
 * with a clear error, never the worker (thread/process workers must not crash or be replaced) and
 * never the caller (no uncaughtException).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Mode } from '../../src/index.js';
import { Hostile } from './fixtures/hostile.js';

const uncaught: unknown[] = [];
const onUncaught = (e: unknown) => uncaught.push(e);
beforeAll(() => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});
afterAll(() => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
});

const handles: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
  expect(uncaught).toEqual([]);
});

function start(mode: Mode) {
  const w = Hostile.options({ mode }).init();
  handles.push(w);
  return w;
}

/** The worker still answers, and (thread/process) was never replaced. */
async function stillServing(w: ReturnType<typeof start>): Promise<void> {
  await expect(w.ok(21)).resolves.toBe(42);
  for (const member of w.stats().pool?.workers ?? []) expect(member.replacements).toBe(0);
}

async function failure(p: PromiseLike<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe.each(['sync', 'async', 'thread', 'process'] as const)('hostile values in %s mode', (mode) => {
  it("a result whose 'then' getter throws fails that call clearly; the worker goes on", async () => {
    const w = start(mode);
    const e = await failure(w.thenGetterThrows());
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/Hostile\.thenGetterThrows returned a value whose 'then' property cannot be read: then getter exploded/);
    await stillServing(w);
    // Twice in a row, and mixed with good calls: nothing is left stuck.
    const [bad, good] = await Promise.allSettled([w.thenGetterThrows(), w.ok(1)]);
    expect(bad.status).toBe('rejected');
    expect(good).toEqual({ status: 'fulfilled', value: 2 });
  });

  it('a thenable whose then() throws fails that call clearly; the worker goes on', async () => {
    const w = start(mode);
    const e = await failure(w.thenThrows());
    expect(e.message).toMatch(/Hostile\.thenThrows returned a thenable whose then\(\) threw: then\(\) exploded/);
    await stillServing(w);
  });

  it('a Proxy result whose traps throw fails that call clearly', async () => {
    const w = start(mode);
    const e = await failure(w.proxyResult());
    expect(e.message).toMatch(/Hostile\.proxyResult returned a value whose 'then' property cannot be read: proxy trap exploded/);
    await stillServing(w);
  });

  it('an error with a throwing getter fails that call with its message', async () => {
    const w = start(mode);
    const e = await failure(w.errorGetterThrows());
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('bad thing happened');
    await stillServing(w);
  });
});

describe.each(['async', 'thread'] as const)('hostile errors in retry events (%s mode)', (mode) => {
  it('are summarized without throwing; the call fails with the error after its retries', async () => {
    const w = Hostile.options({ mode, numRetries: 2, retryWait: 1 }).init();
    handles.push(w);
    const events: { attempt: number; error: { message: string; code?: unknown; status?: unknown } }[] = [];
    w.on('retry', (e) => events.push(e));
    const e = await failure(w.failsHostileEachTime());
    expect(e.message).toBe('flaky and hostile');
    expect(events.map((x) => x.attempt)).toEqual([1, 2]);
    expect(events[0]!.error.message).toBe('flaky and hostile');
    expect(String(events[0]!.error.code)).toMatch(/code getter exploded/);
    expect(typeof events[0]!.error.status).toBe('string');
    await stillServing(w);
  });
});

describe.each(['thread', 'process'] as const)('hostile values crossing the %s boundary', (mode) => {
  it('uncopyable own properties of an error travel as strings', async () => {
    const w = start(mode);
    const e = await failure(w.errorGetterThrows());
    expect(e.detail).toMatch(/error getter exploded/);
    const u = await failure(w.errorWithUnprintables());
    expect(u.message).toBe('holds unprintables');
    expect(typeof u.proxy).toBe('string');
    expect(u.fn).toMatch(/=>\s*1/);
    expect(u.sym).toBe('Symbol(s)');
    expect(typeof u.bare).toBe('string');
    await stillServing(w);
  });

  it('an error whose message, name, stack and cause getters throw still arrives as an error', async () => {
    const w = start(mode);
    const e = await failure(w.errorEverythingThrows());
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toMatch(/message getter exploded/);
    await stillServing(w);
  });

  it('a circular cause chain arrives, cut at a finite depth', async () => {
    const w = start(mode);
    const e = await failure(w.circularCause());
    expect(e.message).toBe('a');
    expect(e.cause.message).toBe('b');
    expect(e.cause.cause.message).toBe('a');
    await stillServing(w);
  });

  it('a thrown Proxy arrives as a string stand-in', async () => {
    const w = start(mode);
    const e = await failure(w.throwProxy());
    expect(typeof e).toBe('string');
    await stillServing(w);
  });

  it('results that cannot be copied fail that call clearly', async () => {
    const w = start(mode);
    const r = await failure(w.resultGetterThrows());
    expect(r.message).toMatch(/result of Hostile\.resultGetterThrows cannot be sent back from the worker: result getter exploded/);
    const x = await failure(w.resultGetterThrowsProxy());
    expect(x.message).toMatch(/result of Hostile\.resultGetterThrowsProxy cannot be sent back from the worker: \[reading message threw: proxy trap exploded\]/);
    const n = await failure(w.thenGetterThrowsAsync());
    expect(n.message).toMatch(/cannot be sent back from the worker: nested then getter/);
    await stillServing(w);
  });
});
