import { describe, expectTypeOf, it } from 'vitest';
import { Future, Worker, gather, type WorkerHandle } from '../src/index.js';

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
