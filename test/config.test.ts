import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, globalConfig, withConfig } from '../src/index.js';
import { Counter } from './fixtures/workers.js';

afterEach(() => globalConfig.reset());

describe('globalConfig and withConfig', () => {
  it('applies global defaults with per-mode overrides; explicit options win', () => {
    globalConfig.set({ stopTimeout: 1000, async: { maxConcurrency: 4 } });
    expect(Counter.options({ mode: 'async' }).resolved).toMatchObject({ stopTimeout: 1000, maxConcurrency: 4 });
    expect(Counter.options({ mode: 'sync' }).resolved).toMatchObject({ stopTimeout: 1000, maxConcurrency: 1 });
    expect(Counter.options({ mode: 'async', maxConcurrency: 2 }).resolved.maxConcurrency).toBe(2);
  });

  it('scopes withConfig overrides to the calls inside fn, across awaits, and restores them', async () => {
    const inside = await withConfig({ stopTimeout: 5, async: { maxConcurrency: 3 } }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return Counter.options({ mode: 'async' }).resolved;
    });
    expect(inside).toMatchObject({ stopTimeout: 5, maxConcurrency: 3 });
    expect(Counter.options({ mode: 'async' }).resolved).toMatchObject({ stopTimeout: 30_000, maxConcurrency: 1 });
  });

  it('keeps concurrent scopes apart and lets scopes nest', async () => {
    const seen = await Promise.all(
      [1, 2, 3].map((n) =>
        withConfig({ maxConcurrency: n }, async () => {
          await new Promise((r) => setTimeout(r, 5 * (4 - n)));
          return Counter.options({ mode: 'async' }).resolved.maxConcurrency;
        }),
      ),
    );
    expect(seen).toEqual([1, 2, 3]);
    const nested = withConfig({ maxConcurrency: 2, stopTimeout: 7 }, () =>
      withConfig({ maxConcurrency: 5 }, () => Counter.options({ mode: 'async' }).resolved),
    );
    expect(nested).toMatchObject({ maxConcurrency: 5, stopTimeout: 7 });
  });

  it('restores after fn throws', () => {
    expect(() =>
      withConfig({ maxConcurrency: 9 }, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(Counter.options({ mode: 'async' }).resolved.maxConcurrency).toBe(1);
  });

  it('validates keys and values, and changes nothing on error', () => {
    expect(() => globalConfig.set({ maxConcurency: 2 })).toThrow(/did you mean 'maxConcurrency'/);
    expect(() => globalConfig.set({ thread: { stopTimeout: -5 } })).toThrow(ConfigError);
    expect(() => globalConfig.set({ mode: 'async' })).toThrow(/'mode' cannot be a default/);
    expect(() => withConfig({ unwrapFutures: 1 }, () => 0)).toThrow(/unwrapFutures/);
    expect(globalConfig.defaults).toEqual({});
  });
});
