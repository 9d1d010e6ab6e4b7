/**
 * Issue 22 item 8: bad input to public entry points is a ConfigError naming the option, the bad
 * value and what is allowed — never a plain TypeError from deep inside, never silently accepted.
 */
import { describe, expect, it } from 'vitest';
import {
  CallLimit,
  ConfigError,
  Future,
  LimitPool,
  LimitSet,
  RateLimit,
  ResourceLimit,
  asCompleted,
  gather,
  retry,
  wait,
  withConfig,
  Worker,
} from '../../src/index.js';

const nullProto = (props: Record<string, unknown> = {}) => Object.assign(Object.create(null), props);

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

async function rejectionOf(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return e as ConfigError;
}

describe('LimitSet options', () => {
  it.each([
    [null, /new LimitSet\(\): options must be an object, got null/],
    ['x', /options must be an object, got "x"/],
    [{ clock: 'x' }, /Invalid option 'LimitSet clock': got "x"; expected an object with now\(\), setTimeout\(\) and clearTimeout\(\)/],
    [{ clock: { now: () => 0 } }, /'LimitSet clock'.*expected an object with now\(\)/],
    [{ config: 5 }, /Invalid option 'LimitSet config': got 5; expected an object/],
    [{ clok: {} }, /Unknown LimitSet option 'clok' — did you mean 'clock'\?/],
  ])('new LimitSet(limits, %o) throws ConfigError', (options, message) => {
    expect(configErrorOf(() => new LimitSet([], options as never)).message).toMatch(message);
  });

  it('non-limits in the list are named, even when they cannot be printed', () => {
    expect(configErrorOf(() => new LimitSet([nullProto({ a: 1 })] as never)).message).toMatch(/expected RateLimit, CallLimit or ResourceLimit, got \{"a":1\}/);
    expect(configErrorOf(() => new LimitSet('abc' as never)).message).toMatch(/LimitSet takes an array of limits, got "abc"/);
  });
});

describe('acquire() amounts and options', () => {
  const set = () => new LimitSet([new ResourceLimit({ key: 'slots', capacity: 3 }), new RateLimit({ key: 'tokens', window: 1000, capacity: 100 })]);

  it.each([
    [{ tokens: nullProto() }, /Invalid option 'acquire\(\{ tokens \}\)': got \{\}; expected an integer from 0 to 100/],
    [{ tokens: -1 }, /acquire\(\{ tokens \}\)': got -1; expected an integer from 0 to 100/],
    [{ tokens: NaN }, /acquire\(\{ tokens \}\)': got NaN/],
    [{ tokens: '5' }, /acquire\(\{ tokens \}\)': got "5"/],
    [{ slots: 1.5 }, /acquire\(\{ slots \}\)': got 1.5; expected an integer from 0 to 3/],
    [5, /requested must be an object of amounts by key, e\.g\. \{ tokens: 100 \}, got 5/],
    [[1, 2], /requested must be an object of amounts by key.*got \[1,2\]/],
    [null, /requested must be an object of amounts by key.*got null/],
  ])('acquire(%o) rejects with ConfigError; tryAcquire throws it', async (requested, message) => {
    const s = set();
    expect((await rejectionOf(s.acquire(requested as never))).message).toMatch(message);
    expect(configErrorOf(() => s.tryAcquire(requested as never)).message).toMatch(message);
    // nothing was taken
    expect((s.stats().slots as { held: number }).held).toBe(0);
  });

  it('a null-prototype request object is fine', async () => {
    const acq = await set().acquire(nullProto({ tokens: 10, slots: 2 }));
    acq.update({ tokens: 10 });
    acq.release();
  });

  it.each([
    [null, /acquire\(\): options must be an object, got null/],
    [{ timeout: -1 }, /Invalid option 'acquire\(\{ timeout \}\)': got -1; expected a number of ms >= 0/],
    [{ timeout: NaN }, /acquire\(\{ timeout \}\)': got NaN/],
    [{ timeout: '100' }, /acquire\(\{ timeout \}\)': got "100"/],
    [{ signal: 'abort' }, /Invalid option 'acquire\(\{ signal \}\)': got "abort"; expected an AbortSignal/],
  ])('acquire({ tokens: 1 }, %o) rejects with ConfigError', async (options, message) => {
    expect((await rejectionOf(set().acquire({ tokens: 1 }, options as never))).message).toMatch(message);
  });
});

describe('LimitPool options', () => {
  const sets = () => [new LimitSet([new CallLimit({ window: 1000, capacity: 5 })])];
  it.each([
    [null, /new LimitPool\(\): options must be an object, got null/],
    [{ workerIndex: -1 }, /Invalid option 'LimitPool.workerIndex': got -1; expected an integer >= 0/],
    [{ workerIndex: '1' }, /'LimitPool.workerIndex': got "1"/],
    [{ random: 0.5 }, /Invalid option 'LimitPool.random': got 0.5; expected a function/],
    [{ loadBalancing: 'rr' }, /LimitPool.loadBalancing/],
    [{ balancing: 'random' }, /Unknown LimitPool option 'balancing'/],
  ])('new LimitPool(sets, %o) throws ConfigError', (options, message) => {
    expect(configErrorOf(() => new LimitPool(sets(), options as never)).message).toMatch(message);
  });

  it('sets that cannot be printed are still named', () => {
    expect(configErrorOf(() => new LimitPool([nullProto()] as never)).message).toMatch(/LimitPool takes LimitSets, got \{\}/);
    expect(configErrorOf(() => new LimitPool(null as never)).message).toMatch(/at least one LimitSet, got null/);
  });
});

describe('waiting options', () => {
  const f = () => Future.resolved(1);
  it.each([
    ['result', () => f().result({ timeout: -1 }), /Invalid option 'result\(\{ timeout \}\)': got -1; expected a number of ms >= 0/],
    ['result null', () => f().result(null as never), /result\(\): options must be an object, got null/],
    ['exception', () => f().exception({ timeout: NaN }), /'result\(\{ timeout \}\)': got NaN/],
    ['gather', () => gather([f()], { timeout: '5' as never }), /'gather\(\{ timeout \}\)': got "5"/],
    ['gather null', () => gather([f()], null as never), /gather\(\): options must be an object, got null/],
    ['gather items', () => gather(5 as never), /gather: expected an array, an iterable or a record of futures, got number/],
    ['wait', () => wait([f()], { timeout: -5 }), /'wait\(\{ timeout \}\)': got -5/],
    ['wait returnWhen', () => wait([f()], { returnWhen: 'any' as never }), /Invalid option 'wait\(\{ returnWhen \}\)': got "any"; expected one of 'all', 'first', 'first-exception'/],
    ['asCompleted', () => asCompleted([f()], { timeout: -1 }), /'asCompleted\(\{ timeout \}\)': got -1/],
    ['asCompleted null', () => asCompleted([f()], null as never), /asCompleted\(\): options must be an object/],
  ])('%s: bad options throw ConfigError at the call', (_name, call, message) => {
    expect(configErrorOf(call).message).toMatch(message);
  });
});

describe('retry() options', () => {
  const fn = async () => 1;
  it.each([
    [5, /retry\(\): options must be an object, got 5/],
    [{ clock: 'x' }, /Invalid option 'retry clock': got "x"; expected an object with now\(\)/],
    [{ random: 1 }, /Invalid option 'retry random': got 1; expected a function/],
    [{ signal: 'x' }, /Invalid option 'retry signal': got "x"; expected an AbortSignal/],
    [{ onEvent: 5 }, /Invalid option 'retry onEvent': got 5; expected a function/],
    [{ numRetrys: 2 }, /Unknown retry\(\) option 'numRetrys' — did you mean 'numRetries'\?/],
  ])('retry(fn, %o) throws ConfigError at once', (options, message) => {
    expect(configErrorOf(() => retry(fn, options as never)).message).toMatch(message);
  });

  it('as a decorator factory too', () => {
    expect(configErrorOf(() => retry(null as never)).message).toMatch(/retry\(\): options must be an object, got null/);
  });
});

describe('handle.on() and withConfig()', () => {
  class Plain extends Worker {
    one(): number {
      return 1;
    }
  }

  it('on() refuses an unknown event type and a listener that is not a function', async () => {
    const w = Plain.options({ mode: 'sync' }).init();
    expect(configErrorOf(() => w.on('retyr' as never, () => {})).message).toMatch(/Invalid option 'on\(type\)': got "retyr"; expected one of 'retry', /);
    expect(configErrorOf(() => w.on('retry', 5 as never)).message).toMatch(/'on\(type, listener\)': got 5; expected a function/);
    const off = w.on('retry', () => {});
    off();
    await w.stop();
  });

  it('withConfig() refuses a non-function body', () => {
    expect(configErrorOf(() => withConfig({}, 5 as never)).message).toMatch(/withConfig\(overrides, fn\): fn must be a function, got 5/);
  });
});
