import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { TaskWorker } from '../../src/index.js';

// Measure what is retained, not garbage waiting for a collection.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

describe('TaskWorker.map memory', () => {
  it('streams 200k items from a generator with flat memory (bounded window, nothing retained)', async () => {
    const tw = TaskWorker.options({ mode: 'async', maxConcurrency: 64 }).init((x: number) => x + 1);
    function* items() {
      for (let i = 0; i < 200_000; i++) yield i;
    }
    const start = liveHeap();
    let peak = start;
    let sum = 0;
    let n = 0;
    for await (const y of tw.map(items())) {
      sum += y;
      if (++n % 20_000 === 0) peak = Math.max(peak, liveHeap());
    }
    await tw.stop();
    expect(n).toBe(200_000);
    expect(sum).toBe((200_000 * 200_001) / 2);
    // Retaining 200k futures and results would take tens of MB; a window of 1024 stays flat.
    expect((peak - start) / 2 ** 20).toBeLessThan(8);
  });
});
