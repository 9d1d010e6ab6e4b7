import { describe, expect, it } from 'vitest';
import { ConfigError, TaskWorker, move } from '../../src/index.js';

const fixtures = new URL('./buffer-workers.ts', import.meta.url).href;
const ITEMS = 10_000;
const DOUBLES = (1 << 20) / 8; // 1 MB each

describe('TaskWorker.map with move(): memory', () => {
  it(`streams ${ITEMS} items of 1 MB to a thread worker with peak RSS under 400 MB`, { timeout: 600_000 }, async () => {
    const tw = TaskWorker.options({ mode: 'thread' }).init();
    let made = 0;
    function* items() {
      for (; made < ITEMS; made++) {
        const item = new Float64Array(DOUBLES);
        item[0] = made;
        yield move(item);
      }
    }
    let peak = process.memoryUsage.rss();
    let n = 0;
    let sum = 0;
    try {
      for await (const s of tw.map({ module: fixtures, export: 'sumTask' }, items())) {
        sum += s as number;
        if (++n % 50 === 0) peak = Math.max(peak, process.memoryUsage.rss());
      }
    } finally {
      await tw.stop();
    }
    expect(n).toBe(ITEMS);
    expect(sum).toBe((ITEMS * (ITEMS - 1)) / 2); // each item's sum is its index: every item arrived whole
    expect(peak / 2 ** 20).toBeLessThan(400);
  });

  it('holds at most windowBytes of binary input in flight (one call always goes), moved or copied', async () => {
    let running = 0;
    let most = 0;
    const tw = TaskWorker.options({ mode: 'async', maxConcurrency: 100 }).init(async (data: Uint8Array) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 1));
      running--;
      return data.length;
    });
    const items = (size: number) => Array.from({ length: 20 }, () => new Uint8Array(size));
    try {
      expect(await tw.map(items(1024), { windowBytes: 3 * 1024 })).toEqual(new Array(20).fill(1024));
      expect(most).toBe(3);
      most = 0;
      expect(await tw.map(items(4096), { windowBytes: 1024, ordered: false })).toEqual(new Array(20).fill(4096));
      expect(most).toBe(1);
      expect(() => tw.map(items(1), { windowBytes: 0 })).toThrow(new ConfigError("Invalid option 'windowBytes': got 0; expected a number >= 1"));
      expect(() => tw.map(items(1), { window: 1.5 })).toThrow(ConfigError);
    } finally {
      await tw.stop();
    }
  });
});
