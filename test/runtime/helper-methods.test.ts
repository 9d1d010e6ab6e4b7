/**
 * Helper methods are plain calls (issue 18, item 2): retries and validators apply where a call
 * enters the worker from a handle, never to `this.helper()` inside a method.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Mode } from '../../src/index.js';
import { Helpers } from '../fixtures/helper-workers.js';

const handles: { stop(): Promise<void> }[] = [];
const track = <H extends { stop(): Promise<void> }>(h: H): H => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

/** A validator for JSON text: it would fail on a helper's number. */
const isJsonObject = (out: unknown) => {
  try {
    return typeof JSON.parse(String(out)) === 'object' || 'not a JSON object';
  } catch {
    return 'not JSON';
  }
};

describe.each(['sync', 'async', 'thread', 'process'] as Mode[])('%s mode', (mode) => {
  it('with numRetries and retryUntil set, this.helper() returns its plain value, unvalidated', async () => {
    const w = track(Helpers.options({ mode, numRetries: 2, retryWait: 1, retryUntil: { '*': () => true, json: isJsonObject } }).init());
    expect(await w.compute(5)).toEqual({ values: [10, 15, 6], types: ['number', 'number', 'number'], secret: 'hidden' });
    expect(await w.json(4)).toBe('{"doubled":8}');
    expect(await w.count()).toBe(2);
    // Only the calls from the handle were attempted and validated.
    expect(w.stats().methods.json).toMatchObject({ calls: 1, attempts: 1, validationFailures: 0, successes: 1 });
    expect(w.stats().methods.increment).toMatchObject({ calls: 0, attempts: 0 });
  });

  it('a class-wide validator never sees a helper\'s output', async () => {
    const seen: unknown[] = [];
    const w = track(Helpers.options({ mode: mode === 'sync' || mode === 'async' ? mode : 'async', retryUntil: (out: unknown) => (seen.push(out), true) }).init());
    await w.compute(1);
    expect(seen).toEqual([{ values: [2, 3, 2], types: ['number', 'number', 'number'], secret: 'hidden' }]);
  });

  it('a handle call to a name that is not a public method is refused with a clear error', async () => {
    const w = track(Helpers.options({ mode }).init()) as any;
    for (const name of ['_internalHelper', '#secret', 'noSuchMethod']) {
      let error: unknown;
      try {
        error = await w[name]().exception();
      } catch (e) {
        error = e; // refused before a call is made
      }
      // A handle answers only its class's public methods (docs/workers.md), so the name is simply not
      // there: JavaScript's own TypeError, before any call is made.
      expect(w[name]).toBeUndefined();
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/is not a function/);
    }
  });
});
