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
 * - bottleneck: minTime spacing for RPM, a token reservoir (job weight) for TPM, retries from its
 *   'failed' event honouring Retry-After, the same validation loop.
 * Each gets a fresh provider with the same seed; fates are keyed by (task, attempt), so all three
 * face the same failures and the same least work. Reported: makespan ÷ the theoretical bound
 * (accepted requests ÷ RPM or charged tokens ÷ TPM), 429s received, wasted requests (sent but not
 * accepted), and successes. A client that bursts into a fresh window can beat that bound by up to
 * one window's worth, so the bound is tight only for batches well over a window long — not quick mode.
 * Target: concurry ≤ 1.05× the bound with 0 429s.
 */
import os from 'node:os';
import Bottleneck from 'bottleneck';
import PQueue from 'p-queue';
import pRetry from 'p-retry';
import { runDemo } from '../examples/demo.js';
import { ProviderError, requestCompletion, validAnswer, type Completion } from '../examples/llm/client.js';
import { DEFAULT_MAX_TOKENS, MODELS_PATH, buildMessages, chargedTokens, makeTasks, type ChatRequest, type ChatResponse } from '../examples/llm/protocol.js';
import { startProvider, type ProviderOptions } from '../examples/llm/provider.js';
import { machineInfo, printMachine, target, type SuiteOptions } from './lib/harness.js';

interface Row {
  name: string;
  makespanMs: number;
  boundMs: number;
  ratio: number;
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

async function runClient(
  name: string,
  providerOptions: ProviderOptions,
  tasks: string[],
  makeSend: (url: string) => (body: ChatRequest) => Promise<ChatResponse>,
): Promise<Row> {
  const provider = await startProvider(providerOptions);
  try {
    await (await fetch(provider.url + MODELS_PATH)).arrayBuffer(); // fetch loaded and a connection open, as the pool's workers do
    const send = makeSend(provider.url);
    const t0 = performance.now();
    const settled = await Promise.allSettled(tasks.map((task) => completeValidated(task, send)));
    const makespanMs = performance.now() - t0;
    const s = provider.stats();
    const boundMs = provider.boundMs();
    const succeeded = settled.filter((r) => r.status === 'fulfilled').length;
    return { name, makespanMs, boundMs, ratio: makespanMs / boundMs, requests: s.requests, rateLimited: s.rateLimited, wasted: s.requests - s.accepted, succeeded, failed: tasks.length - succeeded };
  } finally {
    await provider.close();
  }
}

export async function run({ quick = false }: SuiteOptions = {}) {
  const calls = quick ? 100 : 2000;
  // Bound ≈ 6 s, about two windows. Quick mode's batch fits in one window, so it shows the harness
  // works more than how the clients compare: nothing has to wait for a window to roll over.
  const minuteMs = quick ? 2000 : 3000;
  const rpm = quick ? 130 : 1200;
  const tpm = rpm * 200;
  const providerOptions = { rpm, tpm, minuteMs, failRate: 0.1, malformedRate: 0.05, latency: 40, seed: 8 } satisfies ProviderOptions;
  const tasks = makeTasks(calls);
  printMachine();
  // Other work on the machine delays requests on their way to the provider, which can turn into 429s.
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    `llm-batch: ${calls} calls; provider ${rpm} requests and ${tpm} tokens per ${minuteMs} ms window, ` +
      `${providerOptions.failRate * 100}% 503s, ${providerOptions.malformedRate * 100}% malformed, ~${providerOptions.latency} ms latency`,
  );
  const rows: Row[] = [];

  const ours = await runDemo({
    ...providerOptions,
    n: calls,
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
  rows.push({
    name: 'concurry (pool)',
    makespanMs: ours.elapsedMs,
    boundMs: ours.boundMs,
    ratio: ours.ratio,
    requests: ours.provider.requests,
    rateLimited: ours.provider.rateLimited,
    wasted: ours.provider.requests - ours.provider.accepted,
    succeeded: ours.succeeded,
    failed: ours.failed,
  });

  // The queue counts requests only: fold TPM into its cap using a first attempt's charge.
  const perRequest = chargedTokens({ messages: buildMessages(tasks[0]!), max_tokens: DEFAULT_MAX_TOKENS });
  rows.push(
    await runClient('p-queue + p-retry', providerOptions, tasks, (url) => {
      const queue = new PQueue({ concurrency: CONCURRENCY, interval: minuteMs, intervalCap: Math.min(rpm, Math.floor(tpm / perRequest)), strict: true });
      return (body) =>
        pRetry(() => queue.add(() => requestCompletion(url, body)), {
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
    }),
  );

  // bottleneck unrefs its timers: keep the process alive while it runs, or Node exits mid-suite.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    rows.push(
      await runClient('bottleneck', providerOptions, tasks, (url) => {
        const limiter = new Bottleneck({ maxConcurrent: null, minTime: minuteMs / rpm, reservoir: tpm, reservoirRefreshAmount: tpm, reservoirRefreshInterval: minuteMs });
        limiter.on('failed', (error, info) => {
          if (!retryable(error) || info.retryCount >= RETRIES) return undefined;
          return Math.max((error as Partial<ProviderError>).retryAfterMs ?? 0, 50 * 2 ** info.retryCount);
        });
        return (body) => limiter.schedule({ weight: chargedTokens(body) }, () => requestCompletion(url, body));
      }),
    );
  } finally {
    clearInterval(keepAlive);
  }

  console.log(
    '\n' + 'client'.padEnd(24) + 'makespan'.padStart(10) + 'bound'.padStart(9) + '÷ bound'.padStart(9) + 'requests'.padStart(10) + '429s'.padStart(7) + 'wasted'.padStart(8) + 'succeeded'.padStart(12),
  );
  for (const r of rows) {
    console.log(
      r.name.padEnd(24) +
        `${(r.makespanMs / 1000).toFixed(2)} s`.padStart(10) +
        `${(r.boundMs / 1000).toFixed(2)} s`.padStart(9) +
        `${r.ratio.toFixed(2)}×`.padStart(9) +
        String(r.requests).padStart(10) +
        String(r.rateLimited).padStart(7) +
        String(r.wasted).padStart(8) +
        `${r.succeeded}/${calls}`.padStart(12),
    );
  }
  const mine = rows[0]!;
  const targets = [
    target('concurry within 1.05× of the theoretical bound', mine.ratio <= 1.05, `${mine.ratio.toFixed(3)}×`),
    target('concurry gets no 429s', mine.rateLimited === 0, `${mine.rateLimited} 429s`),
    target('concurry: every call succeeds', mine.failed === 0, `${mine.succeeded}/${calls}`),
  ];
  return { suite: 'llm-batch', machine: machineInfo(), calls, provider: providerOptions, results: rows, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
