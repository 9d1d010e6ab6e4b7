/**
 * map-scale: TaskWorker.map over many tiny items — throughput and peak RSS. The map streams with a
 * bounded window, so memory must stay flat however many items go through. Target: peak RSS ≤ 300 MB
 * for 1M items. Each measurement runs in a fresh child process: RSS is process-wide, and suites
 * that ran before in the same process would otherwise be counted.
 */
import { TaskWorker, type Mode } from '../src/index.js';
import { machineInfo, printMachine, runInChild, target, type SuiteOptions } from './lib/harness.js';

function* range(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

async function one(mode: Mode, items: number, maxWorkers: number) {
  const tw = TaskWorker.options({ mode, maxWorkers }).init((x: number) => x + 1);
  await tw.ready();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const t0 = performance.now();
  let checksum = 0;
  for await (const r of tw.map(range(items))) checksum += r as number;
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  await tw.stop();
  const expected = (items * (items + 1)) / 2;
  if (checksum !== expected) throw new Error(`map-scale: checksum ${checksum} != ${expected}`);
  return { mode, items, maxWorkers, ms, itemsPerSec: (items / ms) * 1000, peakRssMb: peakRss / 2 ** 20 };
}

export async function run({ quick = false }: SuiteOptions = {}) {
  const items = quick ? 20_000 : 1_000_000;
  printMachine();
  const runs = [];
  for (const [mode, workers] of [
    ['async', 1],
    ['thread', 2],
  ] as const) {
    try {
      const r = inChild(mode, items, workers);
      runs.push(r);
      console.log(
        `map-scale ${mode} (${workers} worker${workers > 1 ? 's' : ''}): ${items.toLocaleString('en-US')} items in ${(r.ms / 1000).toFixed(2)} s = ` +
          `${Math.round(r.itemsPerSec).toLocaleString('en-US')} items/s, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
      );
    } catch (error) {
      console.log(`map-scale ${mode}: not run (${(error as Error).message})`);
    }
  }
  const targets = runs.map((r) => target(`${r.mode}: peak RSS ≤ 300 MB for ${items} items`, r.peakRssMb <= 300, `${r.peakRssMb.toFixed(0)} MB`));
  return {
    suite: 'map-scale',
    machine: machineInfo(),
    runs,
    targets,
    chart: { title: `map-scale — items/s over ${items.toLocaleString('en-US')} items`, unit: 'items/s', bars: runs.map((r) => ({ label: `concurry map (${r.mode})`, value: r.itemsPerSec })) },
  };
}

type OneResult = Awaited<ReturnType<typeof one>>;

function inChild(mode: Mode, items: number, workers: number): OneResult {
  return runInChild<OneResult>(import.meta.url, 'MAP_SCALE_CHILD', { mode, items, workers });
}

if (process.env.MAP_SCALE_CHILD) {
  const { mode, items, workers } = JSON.parse(process.env.MAP_SCALE_CHILD) as { mode: Mode; items: number; workers: number };
  console.log(JSON.stringify(await one(mode, items, workers)));
  process.exit(0);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
