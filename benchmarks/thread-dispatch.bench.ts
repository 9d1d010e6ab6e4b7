/**
 * thread-dispatch: tiny calls through 2 thread workers — concurry vs piscina, poolifier, tinypool,
 * workerpool and a raw worker_threads postMessage loop (pipelined, batched: the floor).
 * Targets: ≥ 5× piscina, ≥ 0.75× raw. Then concurry, raw and piscina again, on fresh pools, while
 * two background processes burn CPU (a machine doing other things): ≥ 0.75× raw there too. The
 * busy run is part of every full run; `--quick --burners` adds it to a quick one.
 * Round-trip latency is its own suite (latency.bench.ts).
 */
import { Worker as NodeWorker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { FixedThreadPool } from 'poolifier';
import { gather } from '../src/index.js';
import { Adder } from './workers/adder.js';
import { withBurners } from './lib/burners.js';
import { compare, machineInfo, printMachine, printTable, target, type Contender, type ContenderResult, type SuiteOptions } from './lib/harness.js';

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

/** A contender with its own pool of 2 threads, started in setup and stopped in teardown. */
function pooled<P>(name: string, start: () => P, call: (pool: P, i: number) => PromiseLike<unknown>, stop: (pool: P) => unknown): Contender {
  let pool: P | undefined;
  return {
    name,
    setup() {
      pool = start();
    },
    run: (n) => Promise.all(Array.from({ length: n }, (_, i) => call(pool!, i))).then(() => undefined),
    async teardown() {
      await stop(pool!);
    },
  };
}

function concurryPool(): Contender {
  const pool = Adder.options({ mode: 'thread', maxWorkers: 2 }).init();
  return {
    name: 'concurry thread pool',
    async setup() {
      await pool.ready();
    },
    async run(n) {
      const fs = new Array<ReturnType<typeof pool.addOne>>(n);
      for (let i = 0; i < n; i++) fs[i] = pool.addOne(i);
      await gather(fs);
    },
    async teardown() {
      await pool.stop();
    },
  };
}

const piscina = () =>
  pooled('piscina 5', () => new Piscina({ filename: file('task.mjs'), minThreads: 2, maxThreads: 2 }), (p, i) => p.run(i), (p) => p.destroy());

/** Every contender, each on a pool of its own made fresh for this measurement. */
function allContenders(): Contender[] {
  return [
    concurryPool(),
    rawThreads(),
    piscina(),
    pooled('tinypool', () => new Tinypool({ filename: file('task.mjs'), minThreads: 2, maxThreads: 2 }), (p, i) => p.run(i), (p) => p.destroy()),
    pooled('workerpool', () => workerpool.pool(file('workerpool-worker.mjs'), { minWorkers: 2, maxWorkers: 2, workerType: 'thread' }), (p, i) => p.exec('addOne', [i]), (p) => p.terminate()),
    pooled('poolifier', () => new FixedThreadPool(2, file('poolifier-worker.mjs')), (p, i) => p.execute(i), (p) => p.destroy()),
  ];
}

const BURNERS = 2;

export async function run({ quick = false }: SuiteOptions = {}) {
  const ops = quick ? 5_000 : 100_000;
  const reps = quick ? 2 : 5;
  const busyToo = !quick || process.argv.includes('--burners');
  const settings = { ops, reps, warmupOps: Math.min(ops, 20_000) };
  const results = await compare(allContenders(), settings);
  const busy = busyToo ? await withBurners(BURNERS, () => compare([concurryPool(), rawThreads(), piscina()], settings)) : undefined;

  printMachine();
  printTable(`thread-dispatch: ${ops} tiny calls over 2 threads, median of ${reps}`, results, 'concurry thread pool');
  if (busy) printTable(`thread-dispatch with ${BURNERS} background CPU burners (fresh pools): ${ops} tiny calls over 2 threads, median of ${reps}`, busy, 'concurry thread pool');
  const by = (rs: ContenderResult[], name: string) => rs.find((r) => r.name.startsWith(name))!.opsPerSec;
  const ratio = (rs: ContenderResult[], name: string) => by(rs, 'concurry') / by(rs, name);
  const targets = [
    target('≥ 5× piscina', ratio(results, 'piscina') >= 5, `${ratio(results, 'piscina').toFixed(2)}×`),
    target('≥ 0.75× raw worker_threads', ratio(results, 'raw') >= 0.75, `${ratio(results, 'raw').toFixed(2)}×`),
    ...(busy
      ? [target(`with ${BURNERS} CPU burners: ≥ 0.75× raw worker_threads`, ratio(busy, 'raw') >= 0.75, `${ratio(busy, 'raw').toFixed(2)}× (piscina ${ratio(busy, 'piscina').toFixed(2)}×)`)]
      : []),
  ];
  return { suite: 'thread-dispatch', machine: machineInfo(), ops, reps, results, ...(busy ? { busy: { burners: BURNERS, results: busy } } : {}), targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
