/**
 * latency: one call at a time, round trip, to a thread worker — concurry vs piscina, with a raw
 * worker_threads postMessage ping-pong as the floor. Target: p50 and p99 ≤ piscina's.
 */
import { fileURLToPath } from 'node:url';
import { Worker as NodeWorker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Adder } from './workers/adder.js';
import { machineInfo, printMachine, runInChild, target, type SuiteOptions } from './lib/harness.js';

const file = (name: string) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url));

export async function run({ quick = false }: SuiteOptions = {}) {
  // Latency: one call at a time, round trip. Each library is measured alone in a fresh process
  // (threads of the other pools would share the 2 CPUs), in alternation, and the median process
  // counts. On this VM a process whose threads sleep between calls lands in one of two modes —
  // ~13 µs when the scheduler keeps both threads on one vCPU, ~80 µs when every hand-off wakes the
  // other vCPU (piscina, the raw ping-pong) — so the per-process p50s are printed too.
  // 5000 warm-up calls, then 20 000 measured: a p99 needs enough samples past JIT tier-up and the
  // first GCs (over 5000 calls right after 2000 of warm-up it measured warm-up, for every library).
  // --quick measures calls 2000–2500 of 3 fresh processes instead: the warm-up phase, where V8 still
  // compiles in background threads and every library's p99 swings by 10× from process to process.
  const latCount = quick ? 500 : 20_000;
  const warmup = quick ? 2000 : 5000;
  const processes = quick ? 3 : 7;
  const latencyRuns: Record<LatencySubject, Latency[]> = { concurry: [], piscina: [], raw: [] };
  for (let i = 0; i < processes; i++) {
    for (const who of ['concurry', 'piscina', 'raw'] as const) latencyRuns[who].push(latencyInChild(who, latCount, warmup));
  }
  const ours = medianLatency(latencyRuns.concurry);
  const theirs = medianLatency(latencyRuns.piscina);
  const raw = medianLatency(latencyRuns.raw);

  printMachine();
  console.log(
    `latency (one call at a time, each alone in a fresh process, median of ${processes} processes, µs): ` +
      `concurry p50 ${ours.p50.toFixed(1)} p99 ${ours.p99.toFixed(1)} · piscina p50 ${theirs.p50.toFixed(1)} p99 ${theirs.p99.toFixed(1)} · ` +
      `raw postMessage ping-pong p50 ${raw.p50.toFixed(1)} p99 ${raw.p99.toFixed(1)}`,
  );
  const perProcess = (runs: Latency[]) => runs.map((r) => r.p50.toFixed(0)).join(' ');
  console.log(`  p50 per process — concurry: ${perProcess(latencyRuns.concurry)} · piscina: ${perProcess(latencyRuns.piscina)} · raw: ${perProcess(latencyRuns.raw)}`);
  const targets = [
    target('latency p50 ≤ piscina', ours.p50 <= theirs.p50, `${ours.p50.toFixed(1)} vs ${theirs.p50.toFixed(1)} µs`),
    target('latency p99 ≤ piscina', ours.p99 <= theirs.p99, `${ours.p99.toFixed(1)} vs ${theirs.p99.toFixed(1)} µs`),
  ];
  return {
    suite: 'latency',
    machine: machineInfo(),
    latencyMicros: { concurry: ours, piscina: theirs, raw, perProcess: latencyRuns },
    targets,
    chart: {
      title: 'latency — one call at a time, round trip p50 (median process), µs; lower is better',
      unit: 'µs',
      bars: [
        { label: 'concurry thread worker', value: ours.p50 },
        { label: 'piscina 5', value: theirs.p50 },
        { label: 'raw postMessage ping-pong', value: raw.p50 },
      ],
    },
  };
}

interface Latency {
  p50: number;
  p99: number;
}

type LatencySubject = 'concurry' | 'piscina' | 'raw';

/** Measures one library's round-trip latency in a fresh process (see run()). */
function latencyInChild(who: LatencySubject, count: number, warmup: number): Latency {
  return runInChild<Latency>(import.meta.url, 'THREAD_LATENCY_CHILD', { who, count, warmup });
}

function medianLatency(runs: Latency[]): Latency {
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)) };
}

async function measureLatency(who: LatencySubject, count: number, warmup: number): Promise<Latency> {
  let call: () => PromiseLike<unknown>;
  let stop: () => Promise<unknown>;
  if (who === 'concurry') {
    const single = Adder.options({ mode: 'thread' }).init();
    await single.ready();
    call = () => single.addOne(1);
    stop = () => single.stop();
  } else if (who === 'raw') {
    const worker = new NodeWorker(file('raw-thread.mjs'));
    call = () =>
      new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage(1);
      });
    stop = () => worker.terminate();
  } else {
    const piscina = new Piscina({ filename: file('task.mjs'), minThreads: 2, maxThreads: 2 });
    call = () => piscina.run(1);
    stop = () => piscina.destroy();
  }
  const samples: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const t0 = performance.now();
    await call();
    if (i >= warmup) samples.push((performance.now() - t0) * 1000);
  }
  await stop();
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length * 0.5)]!, p99: samples[Math.floor(samples.length * 0.99)]! };
}

if (process.env.THREAD_LATENCY_CHILD) {
  const { who, count, warmup } = JSON.parse(process.env.THREAD_LATENCY_CHILD) as { who: LatencySubject; count: number; warmup: number };
  console.log(JSON.stringify(await measureLatency(who, count, warmup)));
  process.exit(0);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
