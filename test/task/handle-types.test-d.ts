/**
 * The public types of TaskWorker handles and error registration, as users write them: the lint pass
 * of issue 21 retyped these, and must not have made any of these calls stop compiling.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { Future, MapRun, TaskWorker, registerErrorClass, task } from '../../src/index.js';

describe('TaskWorker handle types', () => {
  it('a mapped function without annotations still takes its inputs (any), and its result is typed', () => {
    const h = TaskWorker.options({ mode: 'async' }).init();
    const run = h.map((s) => String(s).length, ['a', 'bb']);
    expectTypeOf(run).toEqualTypeOf<MapRun<number>>();
  });

  it('submit and map may be taken off the handle (this: void)', () => {
    const { submit, map } = TaskWorker.options({ mode: 'async' }).init((x: number) => x + 1);
    expectTypeOf(submit(1)).toEqualTypeOf<Future<number>>();
    expectTypeOf(map([1, 2])).toEqualTypeOf<MapRun<number>>();
  });

  it('task(fn) is callable with the function\'s own parameters', () => {
    const double = task({ mode: 'async' })((x: number) => x * 2);
    expectTypeOf(double(2)).toEqualTypeOf<Future<number>>();
    // @ts-expect-error a string is not a number
    void double('2');
  });
});

describe('registerErrorClass types', () => {
  it('accepts error classes whatever their constructor takes', () => {
    class WithArgs extends Error {
      constructor(readonly status: number, message: string) {
        super(message);
      }
    }
    expectTypeOf(registerErrorClass).toBeCallableWith(WithArgs);
    expectTypeOf(registerErrorClass).toBeCallableWith(TypeError);
  });
});
