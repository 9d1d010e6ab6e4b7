/**
 * cpu-work: tasks of fixed CPU work — 0.1, 1 and 10 ms each — on a thread pool of one worker per
 * CPU, vs piscina with as many threads, raw worker_threads given their whole share in one message
 * (the floor of any pool), and the ideal: the same tasks run serially on one worker thread, ÷
 * workers (serial on the main thread is shown too). A task is a calibrated number of iterations of one kernel
 * (workers/cpu-kernel.mjs), never wall-clock spinning, so a busy machine slows it like real work.
 * Then the same again while two background processes burn CPU (lib/burners.ts): polling for
 * replies must not take the CPU the work needs.
 * Targets: ≤ 1.05× ideal at 1 and 10 ms and ≤ piscina at every size; under the burners
 * ≤ 1.05× piscina at every size.
 */
import { availableParallelism } from 'node:os';
import { Worker as NodeWorker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { gather } from '../src/index.js';
import { crunch } from './workers/cpu-kernel.mjs';
import { Cruncher } from './workers/cruncher.js';
import { withBurners } from './lib/burners.js';
import { compare, machineInfo, median, printMachine, target, type Contender, type SuiteOptions } from './lib/harness.js';

const kernelFile = fileURLToPath(new URL('./workers/cpu-kernel.mjs', import.meta.url));
const rawFile = fileURLToPath(new URL('./workers/raw-cruncher.mjs', import.meta.url));
const TASK_MS = [0.1, 1, 10];
const BURNERS = 2;

/** Kernel iterations per millisecond on this machine's main thread (warmed up, median of 7). */
export function calibrate(): number {
  for (let i = 0; i < 20; i++) crunch(100_000);
  let iterations = 100_000;
  // Grow the probe until one run takes ≥ 20 ms, so timer resolution is noise.
  for (;;) {
    const t0 = performance.now();
    crunch(iterations);
    if (performance.now() - t0 >= 20) break;
    iterations *= 2;
  }
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    crunch(iterations);
    times.push(performance.now() - t0);
  }
  return iterations / median(times);
}

type Scenario = 'quiet' | 'busy';
interface Row {
  scenario: Scenario;
  taskMs: number;
  tasks: number;
  /** Milliseconds per batch, median: concurry, piscina, and (quiet only) serial and ideal. */
  ms: Record<string, number>;
}

const CONCURRY = 'concurry';
const PISCINA = 'piscina';
const RAW = 'raw';

/** Runs `n` tasks on raw worker threads, split evenly up front: one message per thread each way. */
function rawSplit(threads: NodeWorker[], iterations: number, n: number): Promise<void> {
  return Promise.all(
    threads.map(
      (w, k) =>
        new Promise<void>((resolve) => {
          w.once('message', () => resolve());
          w.postMessage({ iterations, count: Math.floor(n / threads.length) + (k < n % threads.length ? 1 : 0) });
        }),
    ),
  ).then(() => undefined);
}

export async function run({ quick = false }: SuiteOptions = {}) {
  const workers = availableParallelism();
  const reps = quick ? 3 : 5;
  /** Serial work per batch, ms: a batch runs in about this ÷ workers. */
  const batchMs = quick ? 150 : 1000;
  const perMs = calibrate();
  const pool = Cruncher.options({ mode: 'thread', maxWorkers: workers }).init();
  const piscina = new Piscina({ filename: kernelFile, name: 'crunch', minThreads: workers, maxThreads: workers });
  const raw = Array.from({ length: workers }, () => new NodeWorker(rawFile));

  const measure = async (scenario: Scenario): Promise<Row[]> => {
    const rows: Row[] = [];
    for (const taskMs of TASK_MS) {
      const iterations = Math.round(taskMs * perMs);
      // A multiple of the workers, so an even split exists and the ideal is reachable.
      const tasks = Math.max(1, Math.round(batchMs / taskMs / workers)) * workers;
      const contenders: Contender[] = [
        {
          name: CONCURRY,
          async run(n) {
            const fs = new Array<ReturnType<typeof pool.crunch>>(n);
            for (let i = 0; i < n; i++) fs[i] = pool.crunch(iterations);
            await gather(fs);
          },
        },
        { name: PISCINA, run: (n) => Promise.all(Array.from({ length: n }, () => piscina.run(iterations))).then(() => undefined) },
        { name: RAW, run: (n) => rawSplit(raw, iterations, n) },
      ];
      // The serial baselines only mean something on a quiet machine: the burners share its CPU.
      // Serial on one worker thread is where the work runs; serial on the main thread is shown too
      // (on this VM the two differ by a few % either way from run to run).
      if (scenario === 'quiet') {
        contenders.push({ name: 'serial', run: (n) => rawSplit([raw[0]!], iterations, n) });
        contenders.push({ name: 'serial (main thread)', run: (n) => void Array.from({ length: n }, () => crunch(iterations)) });
      }
      const results = await compare(contenders, { ops: tasks, reps, warmupOps: tasks });
      const ms = Object.fromEntries(results.map((r) => [r.name, (tasks / r.opsPerSec) * 1000]));
      if (ms.serial !== undefined) ms.ideal = ms.serial / workers;
      if (ms['serial (main thread)'] !== undefined) ms.idealMain = ms['serial (main thread)'] / workers;
      rows.push({ scenario, taskMs, tasks, ms });
    }
    return rows;
  };

  let rows: Row[];
  try {
    await pool.ready();
    const quiet = await measure('quiet');
    const busy = await withBurners(BURNERS, () => measure('busy'));
    rows = [...quiet, ...busy];
  } finally {
    await Promise.all([pool.stop(), piscina.destroy(), ...raw.map((w) => w.terminate())]);
  }

  printMachine();
  console.log(`\ncpu-work: batches of ${batchMs} ms of serial work on ${workers} worker threads, ms per batch (median of ${reps}); calibrated ${Math.round(perMs).toLocaleString('en-US')} iterations/ms`);
  console.log('scenario'.padEnd(10) + 'task'.padStart(8) + 'tasks'.padStart(8) + ['concurry', 'piscina', 'raw split', 'ideal', 'ideal main', '÷ ideal', 'raw ÷ ideal', '÷ ideal main', '÷ raw', '÷ piscina'].map((h) => h.padStart(12)).join(''));
  const fmt = (v: number | undefined, digits: number) => (v === undefined ? '—' : v.toFixed(digits));
  for (const r of rows) {
    const ideal = r.scenario === 'quiet' ? r.ms.ideal : undefined;
    const idealMain = r.scenario === 'quiet' ? r.ms.idealMain : undefined;
    console.log(
      (r.scenario === 'busy' ? `busy+${BURNERS}` : r.scenario).padEnd(10) +
        `${r.taskMs} ms`.padStart(8) +
        String(r.tasks).padStart(8) +
        [
          fmt(r.ms[CONCURRY], 1),
          fmt(r.ms[PISCINA], 1),
          fmt(r.ms[RAW], 1),
          fmt(ideal, 1),
          fmt(idealMain, 1),
          ideal ? `${fmt(r.ms[CONCURRY]! / ideal, 2)}×` : '—',
          ideal ? `${fmt(r.ms[RAW]! / ideal, 2)}×` : '—',
          idealMain ? `${fmt(r.ms[CONCURRY]! / idealMain, 2)}×` : '—',
          `${fmt(r.ms[CONCURRY]! / r.ms[RAW]!, 2)}×`,
          `${fmt(r.ms[CONCURRY]! / r.ms[PISCINA]!, 2)}×`,
        ]
          .map((c) => c.padStart(12))
          .join(''),
    );
  }

  const of = (scenario: Scenario) => rows.filter((r) => r.scenario === scenario);
  const ratio = (r: Row, base: string) => r.ms[CONCURRY]! / r.ms[base]!;
  const list = (rs: Row[], base: string) => rs.map((r) => `${r.taskMs} ms ${ratio(r, base).toFixed(2)}×`).join(', ');
  const longTasks = of('quiet').filter((r) => r.taskMs >= 1);
  const targets = [
    target('≤ 1.05× ideal at 1 and 10 ms', longTasks.every((r) => ratio(r, 'ideal') <= 1.05), list(longTasks, 'ideal')),
    target('≤ piscina at every size', of('quiet').every((r) => ratio(r, PISCINA) <= 1), list(of('quiet'), PISCINA)),
    target(`with ${BURNERS} CPU burners: ≤ 1.05× piscina at every size`, of('busy').every((r) => ratio(r, PISCINA) <= 1.05), list(of('busy'), PISCINA)),
  ];
  return {
    suite: 'cpu-work',
    machine: machineInfo(),
    workers,
    iterationsPerMs: perMs,
    batchMs,
    reps,
    rows,
    targets,
    chart: {
      title: `cpu-work — ms per batch of ${batchMs} ms serial work on ${workers} threads; lower is better`,
      unit: 'ms',
      bars: rows.flatMap((r) =>
        [CONCURRY, PISCINA, RAW, 'ideal']
          .filter((name) => r.ms[name] !== undefined)
          .map((name) => ({ label: `${r.scenario === 'busy' ? `busy+${BURNERS}` : 'quiet'} ${r.taskMs} ms · ${name}`, value: r.ms[name]! })),
      ),
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
