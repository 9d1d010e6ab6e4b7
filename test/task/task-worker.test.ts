import { afterEach, describe, expect, it } from 'vitest';
import { TaskWorker, task, type Mode } from '../../src/index.js';

export const TASK_MODES: Mode[] = ['sync', 'async', 'thread', 'process'];

const handles: { stop(): Promise<void> }[] = [];
const track = <T extends { stop(): Promise<void> }>(h: T): T => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

const fixtures = new URL('../fixtures/task-functions.ts', import.meta.url).href;

describe.each(TASK_MODES)('TaskWorker in %s mode', (mode) => {
  it('submit runs a given function with its arguments', async () => {
    const tw = track(TaskWorker.options({ mode }).init());
    expect(await tw.submit((a: number, b: number) => a + b, 2, 3)).toBe(5);
    expect(await tw.submit(async (s: string) => s.toUpperCase(), 'hi')).toBe('HI');
    expect(await tw.submit((opts: { x: number; y: number }) => opts.x * opts.y, { x: 3, y: 4 })).toBe(12);
  });

  it('a bound function runs with all arguments; a given function overrides it', async () => {
    const tw = track(TaskWorker.options({ mode }).init((a: number, b: number) => a - b));
    expect(await tw.submit(10, 4)).toBe(6);
    expect(await tw.submit((x: number) => x * 10, 4)).toBe(40);
  });

  it('submit without any function fails clearly', async () => {
    const tw = track(TaskWorker.options({ mode }).init());
    await expect(tw.submit(1 as never)).rejects.toThrow(/submit\(\) needs a function/);
  });

  it('runs exported functions by module reference', async () => {
    const tw = track(TaskWorker.options({ mode }).init());
    expect(await tw.submit({ module: fixtures, export: 'square' }, 7)).toBe(49);
    expect(await tw.map({ module: fixtures, export: 'slowDouble' }, [1, 2, 3])).toEqual([2, 4, 6]);
  });

  it('map zips iterables to the shortest and yields in input order', async () => {
    const tw = track(TaskWorker.options({ mode }).init());
    const out = await tw.map((a: number, b: string) => `${a}${b}`, [1, 2, 3, 4], ['a', 'b', 'c']);
    expect(out).toEqual(['1a', '2b', '3c']);
    expect(await tw.map((x: number) => x, [])).toEqual([]);
  });

  it('map accepts generators and async iterables and streams with for await', async () => {
    const tw = track(TaskWorker.options({ mode }).init((x: number) => x * 2));
    function* numbers() {
      for (let i = 0; i < 5; i++) yield i;
    }
    async function* letters() {
      for (const l of 'abcdef') yield l;
    }
    const seen: unknown[] = [];
    for await (const r of tw.map((n: number, l: string) => l.repeat(n), numbers(), letters())) seen.push(r);
    expect(seen).toEqual(['', 'b', 'cc', 'ddd', 'eeee']);
    expect(await tw.map(numbers())).toEqual([0, 2, 4, 6, 8]);
  });

  it('map with ordered: false yields in completion order', async () => {
    const tw = track(TaskWorker.options({ mode, maxConcurrency: 3 }).init());
    const out = await tw.map(
      async (ms: number) => {
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      },
      [60, 5, 30],
      { ordered: false },
    );
    expect(out).toEqual([5, 30, 60]);
  });

  it('a failing item rejects map at that item', async () => {
    const tw = track(TaskWorker.options({ mode }).init());
    const seen: number[] = [];
    const run = async () => {
      for await (const r of tw.map(
        (x: number) => {
          if (x === 3) throw new RangeError('item 3 is bad');
          return x;
        },
        [1, 2, 3, 4],
      )) seen.push(r as number);
    };
    await expect(run()).rejects.toThrow('item 3 is bad');
    expect(seen).toEqual([1, 2]);
  });

  it('map keeps at most `window` calls in flight', async () => {
    const tw = track(TaskWorker.options({ mode, maxConcurrency: 100 }).init());
    let peak = 0;
    const out = await tw.map(
      async (x: number) => {
        await new Promise((r) => setTimeout(r, 1));
        return x;
      },
      Array.from({ length: 50 }, (_, i) => i),
      { window: 7, progress: () => (peak = Math.max(peak, tw.stats().pending)) },
    );
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(7);
  });

  it('map reports progress through a callback', async () => {
    const tw = track(TaskWorker.options({ mode }).init((x: number) => x));
    const ticks: [number, number][] = [];
    await tw.map([1, 2, 3], { progress: (done: number, total: number) => ticks.push([done, total]) });
    expect(ticks).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it('task() turns a function into a running TaskWorker you call directly', async () => {
    const double = track(task({ mode })((x: number) => x * 2));
    expect(await double(21)).toBe(42);
    expect(await double.map([1, 2])).toEqual([2, 4]);
  });

  it("retries use the 'submit' key of per-method options", () => {
    expect(() => TaskWorker.options({ mode, numRetries: { '*': 0, submit: 2 } })).not.toThrow();
    expect(() => TaskWorker.options({ mode, numRetries: { '*': 0, sbumit: 2 } as any })).toThrow(/sbumit/);
  });
});

describe('task() keeps the function it wraps recognisable', () => {
  it('keeps .name and .length', async () => {
    const documented = task({ mode: 'sync' })(function documentedFunction(a: number, b: number) {
      return a + b;
    });
    try {
      expect(documented.name).toBe('documentedFunction');
      expect(documented.length).toBe(2);
      expect(await documented(1, 2)).toBe(3);
    } finally {
      await documented.stop();
    }
  });
});
