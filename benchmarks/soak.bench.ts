/**
 * The fault soak at full size: 100 000 calls to a 2-worker thread pool and to a 2-worker process
 * pool, with 10% of calls failing once (retried), a worker killed every 1–5k calls (process.exit(),
 * SIGKILL of a child, a busy loop ended by its timeout), random per-call timeouts and cancels.
 * `--quick`: 3000 calls per mode. The driver and what each figure means: test/soak/fault-soak.ts.
 */
import { machineInfo, printMachine, target, type SuiteOptions } from './lib/harness.js';
import { runSoak, type SoakReport } from '../test/soak/fault-soak.js';

export async function run({ quick }: SuiteOptions = {}) {
  const calls = quick ? 3000 : 100_000;
  const killEvery: [number, number] = quick ? [500, 1500] : [1000, 5000];
  printMachine();
  const reports: SoakReport[] = [];
  for (const mode of ['thread', 'process'] as const) {
    const r = await runSoak({ mode, calls, killEvery, seed: 22 });
    reports.push(r);
    console.log(
      `${mode.padEnd(8)} ${r.calls} calls in ${(r.durationMs / 1000).toFixed(1)} s · ${r.kills} kills, ${r.replacements} replacements · ` +
        `hung ${r.hung} · lost ${r.lost} · wrong ${r.wrong} · run twice ${r.duplicates} · ` +
        `crash failures ${r.crashFailures} (never ran: ${r.crashFailuresNeverRan}) · timeouts ${r.timeouts} · cancelled ${r.cancelled} · retried ok ${r.retriedOk} · ` +
        `heap ${r.heapStartMb} → ${r.heapEndMb} MB · serves after: ${r.servedAfter}`,
    );
  }
  const targets = reports.flatMap((r) => [
    target(`${r.mode}: 0 hung, 0 lost, 0 wrong, 0 run twice`, r.hung + r.lost + r.wrong + r.duplicates === 0, `${r.hung}/${r.lost}/${r.wrong}/${r.duplicates}`),
    target(`${r.mode}: caller heap flat (< 30 MB growth)`, r.heapEndMb - r.heapStartMb < 30, `${r.heapStartMb} → ${r.heapEndMb} MB`),
    target(`${r.mode}: still serving afterwards`, r.servedAfter, String(r.servedAfter)),
  ]);
  return { suite: 'soak', machine: machineInfo(), calls, killEvery, reports, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
