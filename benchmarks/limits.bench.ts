/**
 * limits: acquire+release throughput (n submitted at once, all granted) in-process and shared by 2 thread workers, next to
 * bottleneck (reservoir) and p-queue (interval cap); plus an accuracy table — 10⁶ adversarial
 * arrivals on manual time, the most admitted in any window, per algorithm.
 * Targets: ≥ 2M/s in-process, ≥ 200k/s shared across 2 threads.
 */
import Bottleneck from 'bottleneck';
import PQueue from 'p-queue';
import { CallLimit, LimitSet, ResourceLimit, RATE_ALGORITHMS, gather, seededRandom } from '../src/index.js';
import { createAlgorithm } from '../src/limits/algorithms.js';
import { LimitUser } from './workers/limit-user.js';
import { compare, machineInfo, median, printMachine, printTable, target, type SuiteOptions } from './lib/harness.js';

function accuracy(arrivals: number) {
  const capacity = 100;
  const window = 1000;
  const random = seededRandom(42);
  const rows = [];
  for (const name of RATE_ALGORITHMS) {
    const alg = createAlgorithm(name, capacity, window, 0);
    const admitted: number[] = [];
    let t = 0;
    for (let i = 0; i < arrivals; i++) {
      // bursts at window edges and random gaps: the arrival pattern that breaks naive limiters
      t += random() < 0.5 ? 0 : Math.floor(random() * 30);
      if (alg.waitFor(t, 1) === 0) {
        alg.take(t, 1);
        admitted.push(t);
      }
    }
    let best = 0;
    let j = 0;
    for (let i = 0; i < admitted.length; i++) {
      while (admitted[i]! - admitted[j]! >= window) j++;
      best = Math.max(best, i - j + 1);
    }
    rows.push({ algorithm: name, capacity, maxInAnyWindow: best, ratio: best / capacity, admitted: admitted.length, spanMs: t });
  }
  return rows;
}

export async function run({ quick = false }: SuiteOptions = {}) {
  const ops = quick ? 50_000 : 1_000_000;
  const reps = quick ? 3 : 7;
  const resourceSet = new LimitSet([new ResourceLimit({ key: 'conn', capacity: 1_000_000 })]);
  const callSet = new LimitSet([new CallLimit({ window: 1000, capacity: 1_000_000_000 })]);
  const bottleneck = new Bottleneck({ reservoir: 1e12, maxConcurrent: null });
  const queue = new PQueue({ intervalCap: 1e12, interval: 1000 });
  // bottleneck unrefs its timers: keep the process alive while it runs, or Node exits mid-suite.
  const keepAlive = setInterval(() => {}, 1000);
  const bottleneckOps = quick ? 500 : 5_000; // bottleneck manages ~400 ops/s here: run fewer, report per-op
  const results = await compare(
    [
      {
        name: 'concurry ResourceLimit',
        async run(n) {
          await Promise.all(Array.from({ length: n }, async () => (await resourceSet.acquire()).release()));
        },
      },
      {
        name: 'concurry CallLimit',
        async run(n) {
          await Promise.all(Array.from({ length: n }, async () => (await callSet.acquire()).release()));
        },
      },
      {
        name: 'bottleneck (reservoir)',
        async run(n) {
          const m = Math.min(n, bottleneckOps);
          await Promise.all(Array.from({ length: m }, (_, i) => bottleneck.schedule(() => Promise.resolve(i))));
        },
      },
      {
        name: 'p-queue (interval)',
        async run(n) {
          await Promise.all(Array.from({ length: n }, (_, i) => queue.add(() => i)));
        },
      },
    ],
    { ops, reps },
  );
  clearInterval(keepAlive);
  // bottleneck ran fewer ops; correct its rate
  const b = results.find((r) => r.name.startsWith('bottleneck'))!;
  b.opsPerSec *= Math.min(ops, bottleneckOps) / ops;
  b.nsPerOp = 1e9 / b.opsPerSec;
  b.samples = b.samples.map((x) => (x * Math.min(ops, bottleneckOps)) / ops);
  printMachine();
  printTable(`limits: ${ops} acquire+release submitted at once, median of ${reps}`, results, 'concurry ResourceLimit');

  // Uncontended, one at a time: the cost of one acquire+release on its own.
  const uncontended = (fn: () => unknown, n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    return (n / (performance.now() - t0)) * 1000;
  };
  const seqSet = new LimitSet([new ResourceLimit({ key: 'conn', capacity: 10 })]);
  const syncRates: number[] = [];
  const awaitRates: number[] = [];
  for (let r = 0; r < reps; r++) {
    syncRates.push(uncontended(() => seqSet.tryAcquire()!.release(), ops));
    const t0 = performance.now();
    for (let i = 0; i < ops; i++) (await seqSet.acquire()).release();
    awaitRates.push((ops / (performance.now() - t0)) * 1000);
  }
  const syncRate = median(syncRates);
  const awaitRate = median(awaitRates);
  console.log(`uncontended, one at a time: tryAcquire+release ${Math.round(syncRate).toLocaleString('en-US')}/s · await acquire+release ${Math.round(awaitRate).toLocaleString('en-US')}/s`);

  // Shared across 2 thread workers: each takes what fits from the set's shared memory itself.
  const shared = new LimitSet([new ResourceLimit({ key: 'conn', capacity: 1000 })]);
  const pool = LimitUser.options({ mode: 'thread', maxWorkers: 2, limits: shared }).init();
  await pool.ready();
  // Quick mode still runs enough rounds for the JIT to settle: 2 000 rounds measured mostly warm-up.
  const perWorker = quick ? 20_000 : 50_000;
  await gather([pool.loop(5000), pool.loop(5000)]);
  const t0 = performance.now();
  await gather([pool.loop(perWorker), pool.loop(perWorker)]);
  const sharedRate = ((2 * perWorker) / (performance.now() - t0)) * 1000;
  await pool.stop();
  console.log(`shared across 2 thread workers: ${Math.round(sharedRate).toLocaleString('en-US')} acquire+release/s`);

  const acc = accuracy(quick ? 100_000 : 1_000_000);
  console.log('\naccuracy: most admitted in any 1000 ms window, capacity 100');
  for (const r of acc) console.log(`  ${r.algorithm.padEnd(16)} ${String(r.maxInAnyWindow).padStart(5)}  (${r.ratio.toFixed(2)}× capacity)`);
  const ours = results[0]!.opsPerSec;
  const pq = results.find((r) => r.name.startsWith('p-queue'))!.opsPerSec;
  const bn = results.find((r) => r.name.startsWith('bottleneck'))!.opsPerSec;
  const targets = [
    target('≥ 2M/s uncontended in-process acquire+release (await)', awaitRate >= 2e6, `${Math.round(awaitRate).toLocaleString('en-US')}/s (tryAcquire: ${Math.round(syncRate).toLocaleString('en-US')}/s)`),
    target('≥ 200k/s shared across 2 thread workers', sharedRate >= 2e5, `${Math.round(sharedRate).toLocaleString('en-US')}/s`),
    target('faster than p-queue interval cap', ours > pq, `${(ours / pq).toFixed(2)}×`),
    target('faster than bottleneck reservoir', ours > bn, `${(ours / bn).toFixed(0)}×`),
    target('sliding-window strict (≤ 1.00× capacity in any window)', acc.find((r) => r.algorithm === 'sliding-window')!.ratio <= 1, 'see table'),
  ];
  return { suite: 'limits', machine: machineInfo(), ops, reps, results, uncontendedAwaitPerSec: awaitRate, uncontendedTryPerSec: syncRate, sharedAcrossThreadsPerSec: sharedRate, accuracy: acc, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
