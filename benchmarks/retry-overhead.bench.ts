/**
 * retry-overhead: the success path of a retry-wrapped call — what retries cost when nothing fails.
 * Our engine vs the bare call, cockatiel's retry policy and p-retry. Target: ≤ 0.3 µs added.
 */
import { ExponentialBackoff, handleAll, retry as cockatielRetry } from 'cockatiel';
import pRetry from 'p-retry';
import { executeWithRetry, resolveRetryPolicy } from '../src/retry/index.js';
import { compare, machineInfo, printMachine, printTable, target, type SuiteOptions } from './lib/harness.js';

let sink = 0;
const work = async (x: number) => {
  sink += x;
  return x;
};

export async function run({ quick = false }: SuiteOptions = {}) {
  const ops = quick ? 20_000 : 300_000;
  const reps = quick ? 3 : 7;
  const policy = resolveRetryPolicy({ numRetries: 3, retryWait: 100 });
  const env = { methodName: 'work', args: [], workerClass: 'Bench' };
  const cockatiel = cockatielRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });
  const results = await compare(
    [
      {
        name: 'bare async call',
        async run(n) {
          for (let i = 0; i < n; i++) await work(i);
        },
      },
      {
        name: 'concurry retry engine',
        async run(n) {
          for (let i = 0; i < n; i++) await executeWithRetry(() => work(i), policy, env);
        },
      },
      {
        name: 'cockatiel retry',
        async run(n) {
          for (let i = 0; i < n; i++) await cockatiel.execute(() => work(i));
        },
      },
      {
        name: 'p-retry',
        async run(n) {
          for (let i = 0; i < n; i++) await pRetry(() => work(i), { retries: 3 });
        },
      },
    ],
    { ops, reps },
  );
  printMachine();
  printTable(`retry-overhead: ${ops} successful calls, median of ${reps}`, results, 'concurry retry engine');
  const bare = results[0]!.nsPerOp;
  const added = (name: string) => results.find((r) => r.name === name)!.nsPerOp - bare;
  console.log(
    `added per call: concurry ${(added('concurry retry engine') / 1000).toFixed(3)} µs · cockatiel ${(added('cockatiel retry') / 1000).toFixed(3)} µs · p-retry ${(added('p-retry') / 1000).toFixed(3)} µs`,
  );
  const targets = [target('≤ 0.3 µs added on success', added('concurry retry engine') <= 300, `${(added('concurry retry engine') / 1000).toFixed(3)} µs`)];
  return { suite: 'retry-overhead', machine: machineInfo(), ops, reps, results, sink, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
