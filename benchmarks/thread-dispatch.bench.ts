/**
 * thread-dispatch: tiny calls through 2 thread workers — concurry vs piscina, poolifier, tinypool,
 * workerpool and a raw worker_threads postMessage loop (pipelined, batched: the floor).
 * Targets: ≥ 5× piscina, ≥ 0.75× raw. Round-trip latency is its own suite (latency.bench.ts).
 */
import { Worker as NodeWorker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { FixedThreadPool } from 'poolifier';
import { gather } from '../src/index.js';
import { Adder } from './workers/adder.js';
import { compare, machineInfo, printMachine, printTable, target, type Contender, type SuiteOptions } from './lib/harness.js';

const file = (name: string) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url));

/** A raw 2-thread loop: one postMessage per call, pipelined (no waiting between sends). */
function rawThreads(): Contender {
  let workers: NodeWorker[] = [];
  return {
    name: 'raw worker_threads',
    setup() {
      workers = [0, 1].map(() => new NodeWorker(file('raw-thread.mjs')));
    },
    async run(n) {
      await Promise.all(
        workers.map(
          (w, k) =>
            new Promise<void>((resolve) => {
              let left = Math.floor(n / 2) + (k === 0 ? n % 2 : 0);
              const onMessage = () => {
                if (--left === 0) {
                  w.off('message', onMessage);
                  resolve();
                }
              };
              w.on('message', onMessage);
              for (let i = left; i > 0; i--) w.postMessage(i);
            }),
        ),
      );
    },
    async teardown() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

export async function run({ quick = false }: SuiteOptions = {}) {
  const ops = quick ? 5_000 : 100_000;
  const reps = quick ? 2 : 5;
  const pool = Adder.options({ mode: 'thread', maxWorkers: 2 }).init();
  const piscina = new Piscina({ filename: file('task.mjs'), minThreads: 2, maxThreads: 2 });
  const tinypool = new Tinypool({ filename: file('task.mjs'), minThreads: 2, maxThreads: 2 });
  const wpool = workerpool.pool(file('workerpool-worker.mjs'), { minWorkers: 2, maxWorkers: 2, workerType: 'thread' });
  const poolifier = new FixedThreadPool(2, file('poolifier-worker.mjs'));
  const contenders: Contender[] = [
    {
      name: 'concurry thread pool',
      async setup() {
        await pool.ready();
      },
      async run(n) {
        const fs = new Array(n);
        for (let i = 0; i < n; i++) fs[i] = pool.addOne(i);
        await gather(fs);
      },
    },
    rawThreads(),
    { name: 'piscina 5', run: (n) => Promise.all(Array.from({ length: n }, (_, i) => piscina.run(i))).then(() => undefined) },
    { name: 'tinypool', run: (n) => Promise.all(Array.from({ length: n }, (_, i) => tinypool.run(i))).then(() => undefined) },
    { name: 'workerpool', run: (n) => Promise.all(Array.from({ length: n }, (_, i) => wpool.exec('addOne', [i]))).then(() => undefined) },
    { name: 'poolifier', run: (n) => Promise.all(Array.from({ length: n }, (_, i) => poolifier.execute(i))).then(() => undefined) },
  ];
  const results = await compare(contenders, { ops, reps, warmupOps: Math.min(ops, 20_000) });

  await Promise.all([pool.stop(), piscina.destroy(), tinypool.destroy(), wpool.terminate(), poolifier.destroy()]);

  printMachine();
  printTable(`thread-dispatch: ${ops} tiny calls over 2 threads, median of ${reps}`, results, 'concurry thread pool');
  const by = (name: string) => results.find((r) => r.name.startsWith(name))!.opsPerSec;
  const targets = [
    target('≥ 5× piscina', by('concurry') >= 5 * by('piscina'), `${(by('concurry') / by('piscina')).toFixed(2)}×`),
    target('≥ 0.75× raw worker_threads', by('concurry') >= 0.75 * by('raw'), `${(by('concurry') / by('raw')).toFixed(2)}×`),
  ];
  return { suite: 'thread-dispatch', machine: machineInfo(), ops, reps, results, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
