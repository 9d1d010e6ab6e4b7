import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, Worker, globalConfig, withConfig, type Future } from '../src/index.js';
import { RESERVED_HANDLE_KEYS } from '../src/runtime/methods.js';
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

describe('reserved handle keys', () => {
  // The one list: handle controls, `then` (a handle must never look like a promise), and what the
  // Worker base class gives every instance.
  const RESERVED = ['ready', 'stop', 'on', 'off', 'stats', 'circuit', 'then', 'limits', 'context'];

  function classWithMethod(name: string): typeof Worker {
    const C = class extends Worker {};
    Object.defineProperty(C.prototype, name, { value: () => 1, writable: true, configurable: true });
    Object.defineProperty(C, 'name', { value: 'Holder' });
    return C;
  }

  it('is one list, used by the builder and the runtime', () => {
    expect([...RESERVED_HANDLE_KEYS]).toEqual(RESERVED);
  });

  it.each(RESERVED)('refuses a worker class defining a method named %s, naming every reserved key', (name) => {
    const C = classWithMethod(name);
    expect(() => C.options({ mode: 'sync' })).toThrow(ConfigError);
    expect(() => C.options({ mode: 'sync' })).toThrow(
      `Holder defines a method named '${name}', which handles reserve (${RESERVED.join(', ')}); rename it`,
    );
  });

  it('accepts every other name, including ones close to a reserved key', async () => {
    for (const name of ['onData', 'started', 'contexts', 'limit', 'thenDo', 'circuitry']) {
      const C = classWithMethod(name);
      const handle = C.options({ mode: 'sync' }).init() as unknown as Record<string, () => Future<number>> & { stop(): Promise<void> };
      expect(await handle[name]()).toBe(1);
      await handle.stop();
    }
  });
});

describe('the worker option table', () => {
  it('lists every option of every feature, without importing any feature module first', () => {
    expect(() => globalConfig.set({ xyzzyq: 1 })).toThrow(
      "Unknown config option 'xyzzyq' Known: mode, maxConcurrency, unwrapFutures, stopTimeout, limits, clock, random, module, " +
        'maxWorkers, loadBalancing, onDemand, maxQueuedTasks, numRetries, retryOn, retryAlgorithm, retryWait, retryMaxWait, ' +
        'retryJitter, retryUntil, retryTimeout, retryBudget, resourceLimits, connection, prefix, delivery, lastGood, timeout, ' +
        'timeoutGrace, circuitBreaker, hedge, fallback, chaos',
    );
  });

  it('checks feature options in defaults as in options()', () => {
    expect(() => globalConfig.set({ thread: { resourceLimits: { maxOldGenerationSizeMb: 0 } } })).toThrow(
      "Invalid option 'resourceLimits.maxOldGenerationSizeMb': got 0; expected a number >= 1",
    );
    expect(() => globalConfig.set({ delivery: 'twice' })).toThrow("Invalid option 'delivery'");
    expect(() => globalConfig.set({ lastGood: { ttl: 0 } })).toThrow("Invalid option 'lastGood.ttl'");
    expect(globalConfig.defaults).toEqual({});
  });
});
