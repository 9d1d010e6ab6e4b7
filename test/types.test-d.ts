import { describe, expectTypeOf, it } from 'vitest';
import {
  CallLimit,
  Future,
  LimitSet,
  TaskWorker,
  Worker,
  gather,
  type LimitsOption,
  type ResourceLimitsOption,
  type TaskWorkerBuilder,
  type WorkerHandle,
  type WorkerOptions,
} from '../src/index.js';

class Typed extends Worker {
  constructor(private readonly prefix: string) {
    super();
  }
  greet(name: string): string {
    return `${this.prefix} ${name}`;
  }
  async total(values: number[]): Promise<number> {
    return values.reduce((a, b) => a + b, 0);
  }
  private secret(): number {
    return 1;
  }
}

describe('handle types', () => {
  it('mirrors public methods as Future-returning calls, inferred from the class', () => {
    const h = Typed.options({ mode: 'async' }).init('hi');
    expectTypeOf(h).toEqualTypeOf<WorkerHandle<Typed>>();
    expectTypeOf(h.greet).parameters.toEqualTypeOf<[name: string | PromiseLike<string>]>();
    expectTypeOf(h.greet('x')).toEqualTypeOf<Future<string>>();
    expectTypeOf(h.total([1])).toEqualTypeOf<Future<number>>();
    expectTypeOf(h.stop).returns.toEqualTypeOf<Promise<void>>();
    // @ts-expect-error private methods are not on the handle
    h.secret();
    // @ts-expect-error constructor arguments are checked
    Typed.options({ mode: 'async' }).init(42);
    // @ts-expect-error mode is required
    Typed.options({});
  });

  it('gather keeps element types in order', async () => {
    const h = Typed.options({ mode: 'async' }).init('hi');
    const out = await gather([h.greet('a'), h.total([1]), 3] as const);
    expectTypeOf(out).toEqualTypeOf<[string, number, 3]>();
  });
});

class Extractor extends Worker {
  extract(text: string): { name: string } {
    return { name: text };
  }
  async count(values: number[]): Promise<number> {
    return values.length;
  }
  _internal(): number {
    return 1;
  }
}

describe('worker option types (issue 18)', () => {
  it('a misspelled option is a compile error', () => {
    // @ts-expect-error maxConcurency is not an option (did you mean maxConcurrency?)
    Extractor.options({ mode: 'async', maxConcurency: 2 });
    Extractor.options({ mode: 'async', maxConcurrency: 2 });
  });

  it('per-method records name the class methods, with or without a * default', () => {
    Extractor.options({ mode: 'async', numRetries: { extract: 3 } });
    Extractor.options({ mode: 'async', numRetries: { '*': 0, extract: 3 }, retryWait: { count: 5 } });
    // @ts-expect-error extarct is not a method of Extractor
    Extractor.options({ mode: 'async', numRetries: { extarct: 3 } });
  });

  it("a validator's result is typed by the method's return type", () => {
    Extractor.options({
      mode: 'async',
      retryUntil: {
        extract: (result) => {
          expectTypeOf(result).toEqualTypeOf<{ name: string }>();
          return result.name.length > 0;
        },
        count: [(result) => (expectTypeOf(result).toEqualTypeOf<number>(), result >= 0)],
      },
    });
    Extractor.options({
      mode: 'async',
      retryUntil: (result) => {
        expectTypeOf(result).toEqualTypeOf<{ name: string } | number>();
        return true;
      },
    });
    // A validator written for a narrower type is still accepted.
    const isName = (r: { name: string }) => r.name !== '';
    Extractor.options({ mode: 'async', retryUntil: { extract: isName } });
  });

  it('methods starting with _ are not on the handle', () => {
    const h = Extractor.options({ mode: 'async' }).init();
    expectTypeOf(h.extract('a')).toEqualTypeOf<Future<{ name: string }>>();
    // @ts-expect-error _internal() is not public
    h._internal();
  });

  it('TaskWorker.options() returns a typed builder', () => {
    const tw = TaskWorker.options({ mode: 'async', numRetries: { submit: 2 } });
    expectTypeOf(tw).toEqualTypeOf<TaskWorkerBuilder>();
    const h = tw.init();
    expectTypeOf(h.submit((x: number) => x * 2, 3)).toEqualTypeOf<Future<number>>();
    // @ts-expect-error TaskWorker has no method 'run'
    TaskWorker.options({ mode: 'async', numRetries: { run: 2 } });
  });
});

describe('option types', () => {
  class Plain extends Worker {
    run(): number {
      return 1;
    }
  }

  it('types every feature option group: limits, resourceLimits, pool, distributed', () => {
    expectTypeOf<WorkerOptions['limits']>().toEqualTypeOf<LimitsOption | undefined>();
    expectTypeOf<WorkerOptions['resourceLimits']>().toEqualTypeOf<ResourceLimitsOption | undefined>();
    expectTypeOf<WorkerOptions['maxWorkers']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<WorkerOptions['delivery']>().toEqualTypeOf<'at-least-once' | 'at-most-once' | undefined>();
    Plain.options({ mode: 'thread', limits: new LimitSet([new CallLimit({ window: 1000, capacity: 5 })]), resourceLimits: { stackSizeMb: 4 } });
    Plain.options({ mode: 'distributed', connection: 'redis://127.0.0.1:6379', prefix: 'app', delivery: 'at-most-once' });
    // @ts-expect-error limits takes Limit objects, sets, pools or an AdaptiveLimit
    Plain.options({ mode: 'sync', limits: 'ten per second' });
    // @ts-expect-error resourceLimits names Node's four caps
    Plain.options({ mode: 'thread', resourceLimits: { heapMb: 64 } });
  });

  it('leaves every reserved handle key out of the handle type', () => {
    class Clash extends Worker {
      work(): number {
        return 1;
      }
      then(): number {
        return 2;
      }
    }
    const h = Clash.options({ mode: 'sync' }).init();
    expectTypeOf(h.work()).toEqualTypeOf<Future<number>>();
    // @ts-expect-error `then` is reserved: a handle never looks like a promise
    void h.then;
    // @ts-expect-error `limits` is reserved (the Worker base class's)
    void h.limits;
    // @ts-expect-error `context` is reserved (the Worker base class's)
    void h.context;
  });
});
