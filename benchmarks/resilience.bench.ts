/**
 * resilience: retry + circuit breaker + timeout composed, success path, per call awaited one at a
 * time — an async-mode concurry worker with all three options vs the same worker with none, and
 * cockatiel's wrap(retry, circuitBreaker, timeout) around the same function.
 * Target: the three policies add ≤ 2 µs per call.
 */
import { ConsecutiveBreaker, ExponentialBackoff, TimeoutStrategy, circuitBreaker, handleAll, retry, timeout, wrap } from 'cockatiel';
import { transientErrors } from '../src/index.js';
import { Echo } from './workers/echo.js';
import { compare, machineInfo, printMachine, printTable, target, type SuiteOptions } from './lib/harness.js';

const echo = async (x: number) => x;

export async function run({ quick = false }: SuiteOptions = {}) {
  const ops = quick ? 20_000 : 200_000;
  const reps = quick ? 3 : 7;
  const plain = Echo.options({ mode: 'async' }).init();
  const guarded = Echo.options({
    mode: 'async',
    numRetries: 3,
    retryOn: transientErrors,
    circuitBreaker: { failureThreshold: 5, recoveryTimeout: 10_000 },
    timeout: 10_000,
  }).init();
  const cockatiel = wrap(
    retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
    timeout(10_000, TimeoutStrategy.Cooperative),
  );
  const results = await compare(
    [
      {
        name: 'concurry worker, no policies',
        async run(n) {
          for (let i = 0; i < n; i++) await plain.echo(i);
        },
      },
      {
        name: 'concurry retry+breaker+timeout',
        async run(n) {
          for (let i = 0; i < n; i++) await guarded.echo(i);
        },
      },
      {
        name: 'cockatiel wrap(retry,breaker,timeout)',
        async run(n) {
          for (let i = 0; i < n; i++) await cockatiel.execute(() => echo(i));
        },
      },
      {
        name: 'bare async function',
        async run(n) {
          for (let i = 0; i < n; i++) await echo(i);
        },
      },
    ],
    { ops, reps },
  );
  await Promise.all([plain.stop(), guarded.stop()]);
  printMachine();
  printTable(`resilience: ${ops} successful calls awaited one at a time, median of ${reps}`, results, 'concurry retry+breaker+timeout');
  const us = (name: string) => results.find((r) => r.name === name)!.nsPerOp / 1000;
  const added = us('concurry retry+breaker+timeout') - us('concurry worker, no policies');
  const cockatielAdded = us('cockatiel wrap(retry,breaker,timeout)') - us('bare async function');
  console.log(
    `per call: concurry with policies ${us('concurry retry+breaker+timeout').toFixed(2)} µs (policies add ${added.toFixed(2)} µs) · ` +
      `cockatiel ${us('cockatiel wrap(retry,breaker,timeout)').toFixed(2)} µs (policies add ${cockatielAdded.toFixed(2)} µs)`,
  );
  const targets = [
    target('policies add ≤ 2 µs per call', added <= 2, `${added.toFixed(2)} µs`),
    target('whole guarded actor call faster than cockatiel policies alone', us('concurry retry+breaker+timeout') < us('cockatiel wrap(retry,breaker,timeout)'), `${(us('cockatiel wrap(retry,breaker,timeout)') / us('concurry retry+breaker+timeout')).toFixed(2)}×`),
  ];
  return { suite: 'resilience', machine: machineInfo(), ops, reps, results, addedMicros: added, cockatielAddedMicros: cockatielAdded, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
