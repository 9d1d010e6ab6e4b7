/**
 * soak-distributed: the distributed fault soak at full size (test/soak/distributed-soak.ts; the
 * small one runs in `npm test`). 2 host processes on one redis-server, 4 instances, 100 calls in
 * flight, 10% injected errors (half retried), a host SIGKILLed every 2 500 settled calls and Redis
 * restarted (every key lost) twice, delivery 'at-most-once'.
 * Target: 0 lost, 0 hung, 0 wrong, 0 extra executions of a non-retried call, serving afterwards.
 * Skipped when redis-server is not installed.
 */
import { redisServerBinary } from '../test/helpers/redis.js';
import { runDistributedSoak } from '../test/soak/distributed-soak.js';
import { target, type SuiteOptions } from './lib/harness.js';

export async function run({ quick }: SuiteOptions) {
  if (!redisServerBinary()) {
    console.log('soak-distributed: skipped (redis-server is not installed)');
    return undefined;
  }
  const calls = quick ? 2_000 : 20_000;
  const report = await runDistributedSoak({
    calls,
    window: 100,
    workers: 4,
    killEvery: quick ? 500 : 2_500,
    redisRestartsAt: quick ? [1_100] : [7_000, 14_000],
    log: (line) => console.log(line),
  });
  console.log(
    `${report.calls} calls in ${report.seconds.toFixed(1)} s: ${report.ok} ok, ${report.injectedErrors} injected errors, ${report.crashed} WorkerCrashedError (at-most-once), ` +
      `${report.hostsKilled} hosts SIGKILLed, ${report.redisRestarts} Redis restarts`,
  );
  const clean = report.lost === 0 && report.hung === 0 && report.wrong === 0 && report.extraExecutions === 0 && report.afterwardsOk;
  const met = target('0 lost, 0 hung, 0 wrong, 0 extra executions, serving afterwards', clean, JSON.stringify({ lost: report.lost, hung: report.hung, wrong: report.wrong, extraExecutions: report.extraExecutions, afterwardsOk: report.afterwardsOk }));
  for (const p of report.problems.slice(0, 20)) console.log(`  ${p}`);
  return { ...report, targets: [met] };
}
