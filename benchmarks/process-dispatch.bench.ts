/**
 * process-dispatch: tiny calls to one process worker vs a raw child_process.fork IPC loop
 * (one message per call, pipelined — the floor). Target: ≥ 0.8× raw.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gather } from '../src/index.js';
import { Adder } from './workers/adder.js';
import { compare, machineInfo, printMachine, printTable, target, type SuiteOptions } from './lib/harness.js';

export async function run({ quick = false }: SuiteOptions = {}) {
  const ops = quick ? 3_000 : 50_000;
  const reps = quick ? 2 : 5;
  const worker = Adder.options({ mode: 'process', maxQueuedTasks: 1_000_000 }).init();
  let child: ChildProcess;
  const results = await compare(
    [
      {
        name: 'concurry process worker',
        async setup() {
          await worker.ready();
        },
        async run(n) {
          const fs = new Array(n);
          for (let i = 0; i < n; i++) fs[i] = worker.addOne(i);
          await gather(fs);
        },
      },
      {
        name: 'raw fork IPC',
        setup() {
          child = fork(fileURLToPath(new URL('./workers/raw-child.mjs', import.meta.url)), [], { serialization: 'advanced' });
        },
        run(n) {
          return new Promise<void>((resolve) => {
            let left = n;
            const onMessage = () => {
              if (--left === 0) {
                child.off('message', onMessage);
                resolve();
              }
            };
            child.on('message', onMessage);
            for (let i = 0; i < n; i++) child.send([i]);
          });
        },
        teardown() {
          child.kill();
        },
      },
    ],
    { ops, reps },
  );
  await worker.stop();
  printMachine();
  printTable(`process-dispatch: ${ops} tiny calls to one child process, median of ${reps}`, results, 'concurry process worker');
  const [ours, raw] = results;
  const targets = [target('≥ 0.8× raw fork IPC', ours!.opsPerSec >= 0.8 * raw!.opsPerSec, `${(ours!.opsPerSec / raw!.opsPerSec).toFixed(2)}×`)];
  return { suite: 'process-dispatch', machine: machineInfo(), ops, reps, results, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
