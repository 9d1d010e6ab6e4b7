/**
 * async-overhead: per-call cost of an async-mode worker on a trivial method, against a plain method
 * call, p-queue and p-limit, in the same run. Targets: ≤ 1.5 µs per call, ≥ 3.5× p-queue.
 */
import PQueue from 'p-queue';
import pLimit from 'p-limit';
import { Worker } from '../src/index.js';
import { compare, machineInfo, printMachine, printTable, target, type SuiteOptions } from './lib/harness.js';

class Adder extends Worker {
  private total = 0;
  add(x: number): number {
    this.total += x;
    return this.total;
  }
}

class PlainAdder {
  private total = 0;
  async add(x: number): Promise<number> {
    this.total += x;
    return this.total;
  }
}

export async function run({ quick = false }: SuiteOptions = {}) {
  const ops = quick ? 20_000 : 200_000;
  const reps = quick ? 3 : 7;
  const worker = Adder.options({ mode: 'async' }).init();
  const plain = new PlainAdder();
  const queue = new PQueue({ concurrency: 1 });
  const limit = pLimit(1);
  const syncAdder = new Adder();
  const results = await compare(
    [
      {
        name: 'concurry async worker',
        async run(n) {
          let last;
          for (let i = 0; i < n; i++) last = worker.add(1);
          await last;
        },
      },
      {
        name: 'plain async method',
        async run(n) {
          let last;
          for (let i = 0; i < n; i++) last = plain.add(1);
          await last;
        },
      },
      {
        name: 'p-queue (concurrency 1)',
        async run(n) {
          let last;
          for (let i = 0; i < n; i++) last = queue.add(() => syncAdder.add(1));
          await last;
        },
      },
      {
        name: 'p-limit (1)',
        async run(n) {
          let last;
          for (let i = 0; i < n; i++) last = limit(() => syncAdder.add(1));
          await last;
        },
      },
    ],
    { ops, reps },
  );
  await worker.stop();
  printMachine();
  printTable(`async-overhead: ${ops} calls of a trivial method, median of ${reps}`, results, 'concurry async worker');
  const ours = results[0]!;
  const pq = results.find((r) => r.name.startsWith('p-queue'))!;
  const targets = [
    target('≤ 1.5 µs per call', ours.nsPerOp <= 1500, `${(ours.nsPerOp / 1000).toFixed(3)} µs`),
    target('≥ 3.5× p-queue throughput', ours.opsPerSec >= 3.5 * pq.opsPerSec, `${(ours.opsPerSec / pq.opsPerSec).toFixed(2)}×`),
  ];
  return { suite: 'async-overhead', machine: machineInfo(), ops, reps, results, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
