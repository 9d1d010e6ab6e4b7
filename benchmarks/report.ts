/**
 * Writes docs/performance.md from the last full run's files in benchmarks/results/: for each suite
 * its targets (met or missed, never hidden), its chart (docs/charts/<suite>.svg, from plot.ts) and
 * exactly what the run printed. `npm run bench:report`.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');
const docPath = join(here, '..', 'docs', 'performance.md');

/** What each suite measures, in one paragraph. */
const ABOUT: Record<string, string> = {
  'thread-dispatch':
    'Tiny calls on a 2-worker thread pool, pipelined, next to piscina 5, poolifier, tinypool, workerpool and a raw worker_threads postMessage loop, each on a pool of its own. Then a busy machine: concurry, raw and piscina again on fresh pools while two background processes burn CPU (`benchmarks/lib/burners.ts`; `npm run bench -- thread-dispatch --quick --burners` for a short run). There a poller that loses its CPU for 0.5 ms or more pauses polling for 100 ms (`src/modes/ipc/idle-spin.ts`), so polling does not take the CPU the workers need.',
  latency:
    'One call at a time to a thread worker, round trip p50/p99, vs piscina and a raw postMessage ping-pong; each measured alone in fresh processes, median process reported.',
  'process-dispatch': 'Tiny calls to a process worker vs a raw `child_process.fork` IPC loop doing the same round trips.',
  'async-overhead': 'What an async-mode actor call costs over a plain function call, next to p-queue and p-limit doing the same job.',
  'retry-overhead': 'The success path of a retry-configured call: what retries cost when nothing fails, vs cockatiel retry and p-retry.',
  resilience: "Retry + circuit breaker + timeout composed, success path, awaited one at a time, vs cockatiel's wrap(retry, breaker, timeout).",
  limits: 'Acquire+release throughput (in-process, uncontended and pipelined, and shared by 2 thread workers) vs bottleneck and p-queue; accuracy of each rate algorithm under 10⁶ adversarial arrivals on manual time.',
  'map-scale': '`TaskWorker.map` over 1M tiny items: throughput and peak RSS.',
  payload:
    'A Float64Array of 1 KB to 64 MB to one worker and back, one call at a time: concurry thread worker by copy and by `move()`, its process worker (a move is a copy there), vs piscina clone and `Piscina.move()`. Each trip is timed on its own, after 6000 1 KB warm-up trips per contender; the targets are judged on the median trip, the mean of every trip is printed too. The copies take turns in one fresh process; the moves run each pool alone in 3 fresh processes and count the median process; the process worker runs in a fresh process. Process workers use Node\'s `advanced` (V8) serialization, which keeps typed arrays and Buffers as they are: a raw `fork` round trip of a 16 MB Float64Array took 583 ms with it vs 2766 ms as a JSON number array (median of 5, 2026-11-27, same loaded machine).',
  'cpu-work':
    'Tasks of fixed CPU work (a kernel iteration count calibrated on the main thread so one task is 0.1, 1 or 10 ms) on a pool of one thread worker per CPU vs piscina with as many threads and the ideal (the same tasks run serially ÷ workers); then the same while two background processes burn CPU (`benchmarks/lib/burners.ts`, killed however the run ends).',
  'llm-batch':
    'A real HTTP server on 127.0.0.1 plays an LLM API (RPM and TPM enforced with 429 + Retry-After, latency, transient 503s, malformed outputs); the same batch through a concurry Worker pool, a hand-rolled p-queue + p-retry client and a bottleneck client; then 10 000 calls by clients told nothing about the limits (concurry with an AdaptiveLimit, p-queue + p-retry with a concurrency only), and a run where the provider halves its limits mid-batch. Every row 3 times, median and spread.',
  soak: 'The fault soak: 100 000 calls per mode to 2-worker thread and process pools with retried errors, a worker killed every 1–5k calls, timeouts and cancels; every call checked against the journal of executions (test/soak/fault-soak.ts).',
  distributed: 'Two host processes on this machine vs plain BullMQ Queue/Worker doing the same tiny job on the same Redis.',
  'soak-distributed':
    "The distributed fault soak: 4 instances on 2 host processes, hosts SIGKILLed every 2 500 calls and Redis restarted (all keys lost) twice, 10% injected errors, delivery 'at-most-once'; executions counted from the workers' own logs.",
};

const suites = existsSync(resultsDir)
  ? readdirSync(resultsDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort()
  : [];

const parts: string[] = [
  '# Performance',
  '',
  'Every number here comes from a full run of `npm run bench` on the machine named in each section;',
  'each suite runs our code and its competitors side by side in the same run, alternating, after a',
  'warm-up, and reports medians — in one process, or, where a shared process would measure the',
  "contenders' interference (latency, payload moves), each alone in fresh processes taken in turn.",
  'This page is generated from that run by `npm run bench:report`',
  '(charts from `benchmarks/results/*.json`, text exactly as the run printed it). Targets are the',
  "issues' targets; a missed one is printed as MISSED.",
  '',
  'Reproduce: `npm ci && npm run bench && npm run bench:report` (or `npm run bench -- <suite>` for one).',
  '',
];

for (const suite of suites) {
  const result = JSON.parse(readFileSync(join(resultsDir, `${suite}.json`), 'utf8'));
  const txtPath = join(resultsDir, `${suite}.txt`);
  parts.push(`## ${suite}`, '');
  if (ABOUT[suite]) parts.push(ABOUT[suite]!, '');
  const machine = result.machine ? `${result.machine.cpus} × ${result.machine.cpuModel}, Node ${result.machine.node}` : 'unknown machine';
  parts.push(`Run ${result.date ?? ''} on ${machine}.`, '');
  if (Array.isArray(result.targets) && result.targets.length) {
    parts.push('| target | result | |', '|---|---|---|');
    for (const t of result.targets) parts.push(`| ${t.label} | ${t.detail} | ${t.met ? 'met' : '**MISSED**'} |`);
    parts.push('');
  }
  if (existsSync(join(here, '..', 'docs', 'charts', `${suite}.svg`))) parts.push(`![${suite}](charts/${suite}.svg)`, '');
  if (existsSync(txtPath)) parts.push('```text', readFileSync(txtPath, 'utf8').trimEnd(), '```', '');
}

if (suites.length === 0) parts.push('No results yet: run `npm run bench` first.', '');
writeFileSync(docPath, parts.join('\n'));
console.log(`wrote ${docPath} (${suites.length} suites)`);
