/**
 * llm-batch: a batch of LLM calls against the simulated provider of the demo (examples/llm/) —
 * RPM and TPM on sliding windows (429s count against RPM), 10% transient 503s, 5% malformed
 * outputs that must be caught and repaired by feeding the reason back — done three ways:
 * - concurry: the demo's pool (4 workers × 16 calls, async mode: the calls wait on I/O, and one
 *   event loop for every client makes this a comparison of scheduling, not of threads on a
 *   2-core machine) with shared RateLimits, retries on 429/5xx and retryUntil with a zod validator;
 * - p-queue + p-retry, as a careful user would write it: a strict (sliding-window) queue at the
 *   RPM (TPM folded into the cap; windows exactly the provider's, no margin), p-retry honouring
 *   Retry-After, a validation loop by hand;
 * - bottleneck: minTime spacing for RPM, a token reservoir (job weight) for TPM, the same retries
 *   and validation loop. Not bottleneck's own retries (its 'failed' event): a job it retries runs
 *   again after the delay without passing minTime or the reservoir again (Job._onFailure calls
 *   run(retryAfter) straight), so every 503 retried that way is an unthrottled extra request; at a
 *   limiter set exactly to RPM that tips the provider's window over, the 429s count against RPM
 *   too and cascade. That was the row that got 1021/2000 through with 6848 429s on a busy machine
 *   and 1.10× with 0 429s on a quiet one (where the first 429 never came). The harness now retries
 *   through the limiter, as the p-queue client does.
 * Each gets a fresh provider with the same seed, on its own thread (as a real provider is on its
 * own machine: on the clients' thread, their bursts of work would delay its arrival stamps); fates are keyed by (task, attempt), so all three
 * face the same failures and the same least work. Reported: makespan ÷ the theoretical bound
 * (accepted requests ÷ RPM or charged tokens ÷ TPM), 429s received, wasted requests (sent but not
 * accepted), and successes. A client that bursts into a fresh window can beat that bound by up to
 * one window's worth, so the bound is tight only for batches well over a window long — not quick mode.
 * Target: concurry ≤ 1.05× the bound with 0 429s.
 *
 * Untold: the same provider, 10 000 calls, clients told nothing about its limits — concurry with an
 * AdaptiveLimit (its value sampled for docs/charts/llm-batch-adaptive.svg) and p-queue + p-retry
 * with only a concurrency; plus a run where the provider halves its limits a third of the way in
 * and restores them at two thirds. Targets: ≤ 1.15× the bound, ≤ 3% of requests answered 429.
 *
 * Every row runs 3 times (1 in quick mode), after an untimed warm-up batch of 60 calls through
 * each told client, and shows the median and the spread; each run's ratio
 * is against the least-work bound (the smallest bound of the runs that completed every call: every
 * such client did the same accepted work, fates being keyed by task and attempt), so a client that
 * gave up on calls is not flattered by a bound computed from the little it got accepted.
 */
import os from 'node:os';
import Bottleneck from 'bottleneck';
import PQueue from 'p-queue';
import pRetry from 'p-retry';
import { runDemo } from '../examples/demo.js';
import { ProviderError, requestCompletion, validAnswer, type Completion } from '../examples/llm/client.js';
import { DEFAULT_MAX_TOKENS, MODELS_PATH, buildMessages, chargedTokens, makeTasks, type ChatRequest, type ChatResponse } from '../examples/llm/protocol.js';
import type { ProviderOptions } from '../examples/llm/provider.js';
import { startProviderThread } from '../examples/llm/provider-thread.js';
import { machineInfo, median, printMachine, target, type SuiteOptions } from './lib/harness.js';
import { fmtSeconds, followTimes } from './lib/follow.js';
import { boundUnder, runUntoldConcurry, type LimitChange, type TimelinePoint, type UntoldRun } from './lib/llm-untold.js';

interface Row {
  name: string;
  makespanMs: number;
  boundMs: number;
  ratio: number;
  accepted: number;
  requests: number;
  rateLimited: number;
  wasted: number;
  succeeded: number;
  failed: number;
}

const RETRIES = 6;
const CONCURRENCY = 64; // the pool's 4 workers × 16 calls

/** What a hand-written client retries: throttling, server errors, and anything that isn't an HTTP answer (network). */
const retryable = (error: unknown) => !(error instanceof ProviderError) || [408, 429, 500, 502, 503, 504].includes(error.status);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The validation loop the other clients need by hand (concurry's retryUntil does this). */
async function completeValidated(task: string, send: (body: ChatRequest) => Promise<ChatResponse>): Promise<Completion> {
  const errors: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const out = await send({ model: 'sim-1', messages: buildMessages(task, errors), max_tokens: DEFAULT_MAX_TOKENS });
    const completion: Completion = { text: out.choices[0]?.message.content ?? '', usage: out.usage, attempt, feedback: errors.length };
    const verdict = await validAnswer(completion);
    if (verdict === true) return completion;
    errors.push(verdict);
    if (errors.length > RETRIES) throw new Error(`output still invalid after ${attempt} attempts: ${verdict}`);
  }
}

/** The retries a careful user writes around a send: p-retry, throttling and 5xx, Retry-After honoured. */
const handRetried = <T>(send: () => Promise<T>) =>
  pRetry(send, {
    retries: RETRIES,
    minTimeout: 50,
    maxTimeout: 2000,
    randomize: true,
    shouldRetry: ({ error }) => retryable(error),
    onFailedAttempt: async ({ error }) => {
      const wait = (error as Partial<ProviderError>).retryAfterMs;
      if (wait) await sleep(wait);
    },
  });

async function runClient(
  name: string,
  providerOptions: ProviderOptions,
  tasks: string[],
  makeSend: (url: string) => (body: ChatRequest) => Promise<ChatResponse>,
): Promise<Row> {
  const provider = await startProviderThread(providerOptions);
  try {
    await (await fetch(provider.url + MODELS_PATH)).arrayBuffer(); // fetch loaded and a connection open, as the pool's workers do
    const send = makeSend(provider.url);
    const t0 = performance.now();
    const settled = await Promise.allSettled(tasks.map((task) => completeValidated(task, send)));
    const makespanMs = performance.now() - t0;
    const s = await provider.stats();
    const boundMs = await provider.boundMs();
    const succeeded = settled.filter((r) => r.status === 'fulfilled').length;
    return { name, makespanMs, boundMs, ratio: makespanMs / boundMs, accepted: s.accepted, requests: s.requests, rateLimited: s.rateLimited, wasted: s.requests - s.accepted, succeeded, failed: tasks.length - succeeded };
  } finally {
    await provider.close();
  }
}

/** A row's runs, and their medians and spread once every ratio is against the least-work bound. */
interface Spread {
  name: string;
  scenario: 'told' | 'untold';
  runs: Row[];
}

const spreadOf = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/** Calls of the untimed warm-up batch each told client runs before the measured runs. */
const WARM_UP_CALLS = 60;

export async function run({ quick = false }: SuiteOptions = {}) {
  const calls = quick ? 100 : 2000;
  const untoldCalls = quick ? 400 : 10_000;
  const reps = quick ? 1 : 3;
  // Bound ≈ 6 s, about two windows. Quick mode's batch fits in one window, so it shows the harness
  // works more than how the clients compare: nothing has to wait for a window to roll over.
  const minuteMs = quick ? 2000 : 3000;
  const rpm = quick ? 130 : 1200;
  const tpm = rpm * 200;
  const providerOptions = { rpm, tpm, minuteMs, failRate: 0.1, malformedRate: 0.05, latency: 40, seed: 8 } satisfies ProviderOptions;
  const tasks = makeTasks(calls);
  const untoldTasks = makeTasks(untoldCalls);
  printMachine();
  // Other work on the machine delays requests on their way to the provider, which can turn into 429s.
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    `llm-batch: ${calls} calls told / ${untoldCalls} untold, ${reps} run(s) each; provider ${rpm} requests and ${tpm} tokens per ${minuteMs} ms window, ` +
      `${providerOptions.failRate * 100}% 503s, ${providerOptions.malformedRate * 100}% malformed, ~${providerOptions.latency} ms latency`,
  );
  // The queue counts requests only: fold TPM into its cap using a first attempt's charge.
  const perRequest = chargedTokens({ messages: buildMessages(tasks[0]!), max_tokens: DEFAULT_MAX_TOKENS });

  const toldConcurry = async (n = calls): Promise<Row> => {
    const ours = await runDemo({
      ...providerOptions,
      n,
      mode: 'async',
      workers: 4,
      concurrency: CONCURRENCY / 4,
      // Wider than the demo's 50 ms: at ~400 requests/s on two shared cores, GC and scheduling
      // pauses between our limiter and the provider run longer (see limitsFor in examples/llm/client.ts).
      marginMs: 80,
      unlimited: false,
      json: true,
      help: false,
    });
    return {
      name: 'concurry (pool)',
      makespanMs: ours.elapsedMs,
      boundMs: ours.boundMs,
      ratio: ours.ratio,
      accepted: ours.provider.accepted,
      requests: ours.provider.requests,
      rateLimited: ours.provider.rateLimited,
      wasted: ours.provider.requests - ours.provider.accepted,
      succeeded: ours.succeeded,
      failed: ours.failed,
    };
  };
  const toldQueue = (n = calls) =>
    runClient('p-queue + p-retry', providerOptions, tasks.slice(0, n), (url) => {
      const queue = new PQueue({ concurrency: CONCURRENCY, interval: minuteMs, intervalCap: Math.min(rpm, Math.floor(tpm / perRequest)), strict: true });
      return (body) => handRetried(() => queue.add(() => requestCompletion(url, body)));
    });
  const toldBottleneck = async (n = calls) => {
    // bottleneck unrefs its timers: keep the process alive while it runs, or Node exits mid-suite.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      return await runClient('bottleneck', providerOptions, tasks.slice(0, n), (url) => {
        const limiter = new Bottleneck({ maxConcurrent: null, minTime: minuteMs / rpm, reservoir: tpm, reservoirRefreshAmount: tpm, reservoirRefreshInterval: minuteMs });
        return (body) => handRetried(() => limiter.schedule({ weight: chargedTokens(body) }, () => requestCompletion(url, body)));
      });
    } finally {
      clearInterval(keepAlive);
    }
  };
  let timeline: TimelinePoint[] = [];
  const untoldConcurry = async (): Promise<Row> => {
    const r = await runUntoldConcurry(providerOptions, untoldTasks, perRequest);
    timeline = r.timeline;
    const boundMs = boundUnder(providerOptions, [], r.accepted, r.tokensCharged);
    return { name: 'concurry (AdaptiveLimit)', makespanMs: r.makespanMs, boundMs, ratio: r.makespanMs / boundMs, accepted: r.accepted, requests: r.requests, rateLimited: r.rateLimited, wasted: r.requests - r.accepted, succeeded: r.succeeded, failed: r.failed };
  };
  const untoldQueue = () =>
    runClient('p-queue + p-retry (concurrency only)', providerOptions, untoldTasks, (url) => {
      const queue = new PQueue({ concurrency: CONCURRENCY });
      return (body) => handRetried(() => queue.add(() => requestCompletion(url, body)));
    });

  const rows: Spread[] = [
    { name: 'concurry (pool)', scenario: 'told', runs: [] },
    { name: 'p-queue + p-retry', scenario: 'told', runs: [] },
    { name: 'bottleneck', scenario: 'told', runs: [] },
    { name: 'concurry (AdaptiveLimit)', scenario: 'untold', runs: [] },
    { name: 'p-queue + p-retry (concurrency only)', scenario: 'untold', runs: [] },
  ];
  const runners = [() => toldConcurry(), () => toldQueue(), () => toldBottleneck(), untoldConcurry, untoldQueue];
  // Untimed, a small batch through each told client first: the first run in a fresh process
  // meets cold code (its first requests reach the provider tens of ms late, which can turn into
  // 429s a window later), and that should not fall on whichever contender happens to run first.
  for (const warm of [toldConcurry, toldQueue, toldBottleneck]) await warm(WARM_UP_CALLS);
  // Alternate the contenders run by run, so drift in the machine's load hits all alike.
  for (let rep = 0; rep < reps; rep++) {
    for (const [i, runner] of runners.entries()) rows[i]!.runs.push(await runner());
  }
  // One least-work bound per scenario: see the header.
  for (const scenario of ['told', 'untold'] as const) {
    const complete = rows.filter((r) => r.scenario === scenario).flatMap((r) => r.runs.filter((x) => x.failed === 0));
    const least = complete.length ? Math.min(...complete.map((x) => x.boundMs)) : undefined;
    for (const r of rows.filter((x) => x.scenario === scenario)) for (const x of r.runs) if (least) x.ratio = x.makespanMs / least;
  }

  // The provider halves its limits a third of the way into what the batch takes at full limits, and restores them at two thirds.
  const fullMs = (untoldCalls / rpm) * minuteMs * 1.1;
  const changes: LimitChange[] = [
    { atMs: Math.round(fullMs / 3), rpm: rpm / 2, tpm: tpm / 2 },
    { atMs: Math.round((2 * fullMs) / 3), rpm, tpm },
  ];
  // Run as often as the other rows: its timing depends on where in a cut-and-probe cycle the halving lands.
  const halvedRuns: HalvedRun[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const r = await runUntoldConcurry(providerOptions, untoldTasks, perRequest, changes);
    const boundMs = boundUnder(providerOptions, changes, r.accepted, r.tokensCharged);
    const followed = followTimes(r.timeline, changes[0]!.atMs, changes[1]!.atMs);
    halvedRuns.push({ ...r, boundMs, ratio: r.makespanMs / boundMs, followedDownMs: followed.down, followedUpMs: followed.up });
  }
  // The chart shows the median run by makespan.
  const halved = [...halvedRuns].sort((a, b) => a.makespanMs - b.makespanMs)[halvedRuns.length >> 1]!;
  const slowestDownMs = Math.max(...halvedRuns.map((r) => r.followedDownMs));
  const slowestUpMs = Math.max(...halvedRuns.map((r) => r.followedUpMs));

  console.log(
    '\n' + 'client'.padEnd(38) + 'makespan'.padStart(10) + '÷ bound (min–max)'.padStart(22) + '429s (min–max)'.padStart(18) + '429 share'.padStart(11) + 'wasted'.padStart(8) + 'succeeded'.padStart(14),
  );
  for (const scenario of ['told', 'untold'] as const) {
    console.log(scenario === 'told' ? `told the limits — ${calls} calls` : `told nothing — ${untoldCalls} calls`);
    for (const r of rows.filter((x) => x.scenario === scenario)) {
      const ratio = spreadOf(r.runs.map((x) => x.ratio));
      const r429 = spreadOf(r.runs.map((x) => x.rateLimited));
      const share = median(r.runs.map((x) => x.rateLimited / x.requests));
      const succeeded = Math.min(...r.runs.map((x) => x.succeeded));
      console.log(
        ('  ' + r.name).padEnd(38) +
          `${(median(r.runs.map((x) => x.makespanMs)) / 1000).toFixed(2)} s`.padStart(10) +
          `${ratio.median.toFixed(2)}× (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`.padStart(22) +
          `${r429.median} (${r429.min}–${r429.max})`.padStart(18) +
          `${(share * 100).toFixed(1)}%`.padStart(11) +
          String(median(r.runs.map((x) => x.wasted))).padStart(8) +
          `${succeeded}/${r.scenario === 'told' ? calls : untoldCalls}`.padStart(14),
      );
    }
  }
  console.log(`\nprovider halves its limits at ${(changes[0]!.atMs / 1000).toFixed(1)} s and restores them at ${(changes[1]!.atMs / 1000).toFixed(1)} s (concurry, AdaptiveLimit), ${halvedRuns.length} run(s):`);
  for (const r of halvedRuns) {
    console.log(
      `  ${(r.makespanMs / 1000).toFixed(2)} s = ${r.ratio.toFixed(2)}× its bound, ${r.rateLimited} 429s of ${r.requests} requests, ${r.succeeded}/${untoldCalls} succeeded; ` +
        `followed down in ${fmtSeconds(r.followedDownMs)}, back up in ${fmtSeconds(r.followedUpMs)}`,
    );
  }
  console.log(
    'bottleneck retries through its limiter here: its own retries (the failed event) skip minTime and the reservoir, which made earlier runs of this row cascade into 429s (see the header of this suite).',
  );

  const told = rows[0]!;
  const untold = rows[3]!;
  const medianOf = (r: Spread, f: (x: Row) => number) => median(r.runs.map(f));
  const targets = [
    target('concurry within 1.05× of the theoretical bound', medianOf(told, (x) => x.ratio) <= 1.05, `${medianOf(told, (x) => x.ratio).toFixed(3)}× (median)`),
    target('concurry gets no 429s', told.runs.every((x) => x.rateLimited === 0), `${told.runs.map((x) => x.rateLimited).join(', ')} 429s`),
    target('concurry: every call succeeds', told.runs.every((x) => x.failed === 0), `${Math.min(...told.runs.map((x) => x.succeeded))}/${calls}`),
    target('untold concurry within 1.15× of the bound', medianOf(untold, (x) => x.ratio) <= 1.15, `${medianOf(untold, (x) => x.ratio).toFixed(3)}× (median)`),
    target('untold concurry: ≤ 3% of requests answered 429', medianOf(untold, (x) => x.rateLimited / x.requests) <= 0.03, `${(medianOf(untold, (x) => x.rateLimited / x.requests) * 100).toFixed(1)}%`),
    target('halved limit followed down within 5 s, every run', slowestDownMs <= 5000, `slowest ${fmtSeconds(slowestDownMs)}`),
    target('restored limit followed back up within 5 s, every run', slowestUpMs <= 5000, `slowest ${fmtSeconds(slowestUpMs)}`),
  ];
  const summary = (r: Spread) => ({
    name: r.name,
    scenario: r.scenario,
    ratio: spreadOf(r.runs.map((x) => x.ratio)),
    rateLimited: spreadOf(r.runs.map((x) => x.rateLimited)),
    makespanMs: spreadOf(r.runs.map((x) => x.makespanMs)),
    runs: r.runs,
  });
  return {
    suite: 'llm-batch',
    machine: machineInfo(),
    calls,
    untoldCalls,
    provider: providerOptions,
    results: rows.map(summary),
    halved: {
      changes,
      runs: halvedRuns.map(({ makespanMs, boundMs, ratio, rateLimited, requests, succeeded, followedDownMs, followedUpMs }) => ({ makespanMs, boundMs, ratio, rateLimited, requests, succeeded, followedDownMs, followedUpMs })),
    },
    timelines: {
      title: 'AdaptiveLimit: adapted rate vs the provider\'s true limit (requests/s)',
      series: [
        { label: 'untold run', points: timeline },
        { label: 'limit halved mid-batch', points: halved.timeline },
      ],
    },
    targets,
  };
}

interface HalvedRun extends UntoldRun {
  boundMs: number;
  ratio: number;
  followedDownMs: number;
  followedUpMs: number;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
