/**
 * WorkerRuntime.runBatch: the worker host's loop over a batch of calls. Plain calls run right in the
 * loop and report to the sink; everything else takes the general path with a settler of its own.
 * Either way calls start in order and each outcome is reported once.
 */
import { describe, expect, it } from 'vitest';
import { WorkerRuntime, type BatchSink, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { LimitSet, ResourceLimit, Worker } from '../../src/index.js';
import { emptyLimitSet } from '../../src/limits/index.js';
import type { LimitsLike } from '../../src/limits/limits-like.js';

class Calc extends Worker {
  readonly seen: string[] = [];
  add(a: number, b: number): number {
    this.seen.push(`add:${this.context.methodName}:${this.context.args.join(',')}`);
    return a + b;
  }
  fail(): never {
    this.seen.push('fail');
    throw new TypeError('not today');
  }
  async later(x: number): Promise<number> {
    this.seen.push(`later:${x}`);
    await new Promise((r) => setTimeout(r, 5));
    return x * 2;
  }
  box(): { v: number } {
    return { v: 1 };
  }
  hostile(): unknown {
    return {
      get then(): never {
        throw new Error('boom');
      },
    };
  }
  nothing(): void {}
  grab(): boolean {
    // Taken and never released: the runtime gives it back when the call ends.
    return this.limits.tryAcquire({ slot: 1 }) !== undefined;
  }
}
const METHODS = ['add', 'fail', 'later', 'box', 'hostile', 'nothing', 'grab'];

type Outcome = [id: number, method: string, ok: boolean, value: unknown, via: 'loop' | 'settler'];

interface RecordingSink extends BatchSink {
  outcomes: Outcome[];
  /** Resolves once `expect(n)` outcomes are in. */
  allIn: Promise<void>;
  expect(n: number): void;
}

function recordingSink(): RecordingSink {
  const outcomes: Outcome[] = [];
  let wanted = Infinity;
  let done!: () => void;
  const allIn = new Promise<void>((r) => (done = r));
  const push = (o: Outcome) => {
    outcomes.push(o);
    if (outcomes.length >= wanted) done();
  };
  return {
    outcomes,
    allIn,
    expect(n) {
      wanted = n;
      if (outcomes.length >= n) done();
    },
    settled(id, method, ok, value) {
      push([id, method, ok, value, 'loop']);
    },
    settlerFor(id, method) {
      return { resolve: (v) => push([id, method, true, v, 'settler']), reject: (e) => push([id, method, false, e, 'settler']) };
    },
  };
}

function runtime(options: Partial<RuntimeOptions> = {}, limits: LimitsLike = emptyLimitSet(), started: number[] = []) {
  return new WorkerRuntime(Calc as never, [], { maxConcurrency: 1, inline: true, ...options }, { limits, onStart: (id) => started.push(id) });
}

describe('WorkerRuntime.runBatch', () => {
  it('runs plain calls in the loop, in order, with their context, methods given by name or by index', () => {
    const started: number[] = [];
    const rt = runtime({}, emptyLimitSet(), started);
    const sink = recordingSink();
    rt.runBatch([1, 0, [1, 2], 2, 'add', [3, 4], 3, 5, []], METHODS, sink);
    expect(sink.outcomes).toEqual([
      [1, 'add', true, 3, 'loop'],
      [2, 'add', true, 7, 'loop'],
      [3, 'nothing', true, undefined, 'loop'],
    ]);
    expect(started).toEqual([1, 2, 3]);
    expect((rt.instance as Calc).seen).toEqual(['add:add:1,2', 'add:add:3,4']);
    expect(rt.pending).toBe(0);
  });

  it('reports a thrown error as that call\'s failure and goes on with the next call', () => {
    const rt = runtime();
    const sink = recordingSink();
    rt.runBatch([1, 'fail', [], 2, 'add', [1, 1]], METHODS, sink);
    expect(sink.outcomes.map(([id, , ok, , via]) => [id, ok, via])).toEqual([
      [1, false, 'loop'],
      [2, true, 'loop'],
    ]);
    const error = sink.outcomes[0][3] as Error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('not today');
  });

  it('an async method goes on with a settler; the calls behind it wait for it and keep their order', async () => {
    const rt = runtime();
    const sink = recordingSink();
    sink.expect(3);
    rt.runBatch([1, 'later', [5], 2, 'add', [1, 2], 3, 'later', [7]], METHODS, sink);
    expect(rt.pending).toBe(3);
    await sink.allIn;
    expect(sink.outcomes).toEqual([
      [1, 'later', true, 10, 'settler'],
      [2, 'add', true, 3, 'settler'],
      [3, 'later', true, 14, 'settler'],
    ]);
    expect((rt.instance as Calc).seen).toEqual(['later:5', 'add:add:1,2', 'later:7']);
  });

  it('an object result has its `then` looked at on the general path: a plain object resolves, a hostile one fails the call', async () => {
    const rt = runtime();
    const sink = recordingSink();
    sink.expect(2);
    rt.runBatch([1, 'box', [], 2, 'hostile', []], METHODS, sink);
    await sink.allIn;
    expect(sink.outcomes[0]).toEqual([1, 'box', true, { v: 1 }, 'settler']);
    const [id, , ok, error, via] = sink.outcomes[1];
    expect([id, ok, via]).toEqual([2, false, 'settler']);
    expect((error as Error).message).toBe("Calc.hostile returned a value whose 'then' property cannot be read: boom");
  });

  it('a method with a retry policy takes the general path and is retried there', async () => {
    const rt = runtime({ retry: { numRetries: { '*': 0, fail: 1 }, retryWait: 1, retryOn: () => true } } as Partial<RuntimeOptions>);
    const sink = recordingSink();
    sink.expect(2);
    rt.runBatch([1, 'fail', [], 2, 'add', [2, 2]], METHODS, sink);
    await sink.allIn;
    expect(sink.outcomes.map(([id, , ok, , via]) => [id, ok, via])).toEqual([
      [1, false, 'settler'],
      [2, true, 'settler'],
    ]);
    expect((rt.instance as Calc).seen.filter((s) => s === 'fail')).toHaveLength(2);
  });

  it('with maxConcurrency above 1 every call takes the general path (its context follows the async chain)', async () => {
    const rt = runtime({ maxConcurrency: 2 });
    const sink = recordingSink();
    sink.expect(2);
    rt.runBatch([1, 'add', [1, 2], 2, 'later', [1]], METHODS, sink);
    await sink.allIn;
    expect(sink.outcomes.map(([id, , , value, via]) => [id, value, via])).toEqual([
      [1, 3, 'settler'],
      [2, 2, 'settler'],
    ]);
  });

  it('a limit taken during a call and never released comes back when the call ends', async () => {
    const limits = new LimitSet([new ResourceLimit({ key: 'slot', capacity: 1 })]);
    const rt = runtime({}, limits);
    const sink = recordingSink();
    sink.expect(3);
    rt.runBatch([1, 'grab', [], 2, 'grab', [], 3, 'grab', []], METHODS, sink);
    await sink.allIn;
    expect(sink.outcomes.map(([id, , ok, value]) => [id, ok, value])).toEqual([
      [1, true, true],
      [2, true, true],
      [3, true, true],
    ]);
    expect(limits.tryAcquire({ slot: 1 })).toBeDefined();
  });
});
