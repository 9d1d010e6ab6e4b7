/** `this.context` and `this.limits` as methods see them, and init() leaving nothing behind. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  LimitPool,
  LimitSet,
  LimitUsageError,
  RateLimit,
  ResourceLimit,
  WorkerInitError,
  transientErrors,
  type Mode,
} from '../../src/index.js';
import { Inspector } from '../fixtures/context-workers.js';

const handles: { stop(): Promise<void> }[] = [];
const track = <H extends { stop(): Promise<void> }>(h: H): H => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

describe.each(['async', 'thread'] as Mode[])('in %s mode', (mode) => {
  it("a retried method sees the previous attempt's error in this.context.error", async () => {
    const w = track(Inspector.options({ mode, numRetries: 1, retryWait: 1, retryOn: transientErrors }).init());
    expect(await w.previousError()).toBe('first try failed');
  });

  it('a nested this.method() call with its own retry settings is a plain call: it runs in the outer call\'s context', async () => {
    const w = track(Inspector.options({ mode, numRetries: { '*': 0, inner: 2 } }).init());
    expect(await w.outer()).toEqual(['outer', 'outer']);
  });

  it('this.limits.config is the set config in every mode', async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slot', capacity: 1 })], { config: { account: 'a-1' } });
    const w = track(Inspector.options({ mode, limits }).init());
    expect(await w.config()).toEqual({ account: 'a-1' });
  });

  it('a LimitPool RateLimit released without update() raises LimitUsageError, and the tokens come back', async () => {
    const set = new LimitSet([new RateLimit({ key: 'tokens', window: 60_000, capacity: 100, algorithm: 'token-bucket' })]);
    const w = track(Inspector.options({ mode, limits: new LimitPool([set]) }).init());
    await expect(w.forgetUpdate()).rejects.toBeInstanceOf(LimitUsageError);
  });
});

describe('tryAcquire inside a method (in-process modes)', () => {
  it.each(['sync', 'async'] as Mode[])('%s: is tracked like acquire, so a forgotten acquisition is released when the call ends', async (mode) => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slot', capacity: 1 })]);
    const w = track(Inspector.options({ mode, limits }).init());
    expect(await w.grabAndForget()).toBe(true);
    expect(await w.grabAndForget()).toBe(true); // the first call's slot came back
  });
});

describe('init() leaves nothing running when it throws', () => {
  it('thread mode: options that cannot be sent to the worker', async () => {
    const threadsBefore = process.getActiveResourcesInfo().filter((r) => r === 'Worker').length;
    const limit = 3;
    expect(() => Inspector.options({ mode: 'thread', retryUntil: (s: unknown) => String(s).length > limit }).init()).toThrow(/limit/);
    await new Promise((r) => setTimeout(r, 50));
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Worker').length).toBe(threadsBefore);
  });

  it('a module whose top-level code starts workers without a guard fails clearly instead of spawning forever', async () => {
    const { started } = await import('../fixtures/unguarded.js');
    handles.push(started);
    const error = await started.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkerInitError);
    expect((error as Error).message).toContain('if (isMainModule(import.meta.url))');
  });
});
