/**
 * `npm run demo`: a batch of LLM calls against a local simulated provider that enforces rate
 * limits, fails transiently and sometimes returns malformed output — finishing anyway, close to the
 * fastest the limits allow, without tripping them.
 *
 * The pieces: a pool of `LLM` workers (examples/llm/client.ts) sharing RateLimits that mirror the
 * provider's RPM and TPM; retries on 429/5xx with the ready predicates; `retryUntil` checking each
 * output with zod and feeding the reason back into the next prompt.
 */
import { parseArgs } from 'node:util';
import { gather, isMainModule, type Mode } from '../src/index.js';
import { LLM, demoRetries, limitsFor, type Completion } from './llm/client.js';
import { makeTasks } from './llm/protocol.js';
import type { ProviderStats } from './llm/provider.js';
import { startProviderThread } from './llm/provider-thread.js';

export const USAGE = `Usage: npm run demo -- [options]
       node --import tsx examples/demo.ts [options]

Runs a batch of LLM calls through a pool of concurry workers against a local simulated provider.

Options:
  --n <int>               calls in the batch (1..100000, default 500)
  --mode <mode>           sync | async | thread | process (default thread)
  --workers <int>         workers in the pool (1..64, default 4)
  --concurrency <int>     calls each worker runs at once (1..1000, default 16)
  --rpm <int>             provider requests per minute (1..10000000, default 80)
  --tpm <int>             provider tokens per minute (1000..2000000000, default 200 × rpm, at least 1000)
  --minute-ms <int>       how long a provider minute lasts, ms (50..600000, default 1000:
                          limits keep their shape but a batch takes seconds, not minutes)
  --fail-rate <x>         fraction of requests answered 503 (0..0.9, default 0.1)
  --malformed-rate <x>    fraction of outputs that are not JSON or break the schema (0..0.9, default 0.1)
  --latency <ms>          median provider latency (0..5000, default 40)
  --margin-ms <int>       how much longer the client's rate windows are than the provider's,
                          to absorb the time requests take to arrive (0..10000, default 30)
  --unlimited             no client-side rate limits: see what the provider does about it
  --seed <int>            seed of the provider's random choices (default 1)
  --json                  print only a JSON summary on stdout
  -h, --help              show this text
`;

export interface DemoOptions {
  n: number;
  mode: Mode;
  workers: number;
  concurrency: number;
  rpm: number;
  tpm: number;
  minuteMs: number;
  failRate: number;
  malformedRate: number;
  latency: number;
  marginMs: number;
  unlimited: boolean;
  seed: number;
  json: boolean;
  help: boolean;
}

/** A bad command line: the message is shown with the usage text, and the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const MODES: readonly Mode[] = ['sync', 'async', 'thread', 'process'];

/** Parses the demo's flags; throws UsageError naming the bad flag. */
export function parseFlags(argv: readonly string[]): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        n: { type: 'string' },
        mode: { type: 'string' },
        workers: { type: 'string' },
        concurrency: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        'minute-ms': { type: 'string' },
        'fail-rate': { type: 'string' },
        'malformed-rate': { type: 'string' },
        latency: { type: 'string' },
        'margin-ms': { type: 'string' },
        unlimited: { type: 'boolean' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const int = (flag: string, fallback: number, min: number, max: number): number => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n)) throw new UsageError(`--${flag} must be a whole number, got '${String(raw)}'`);
    if (n < min || n > max) throw new UsageError(`--${flag} must be from ${min} to ${max}, got ${n}`);
    return n;
  };
  const decimal = (flag: string, fallback: number, max: number): number => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const x = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${flag} must be a number, got '${String(raw)}'`);
    if (x < 0 || x > max) throw new UsageError(`--${flag} must be from 0 to ${max}, got ${x}`);
    return x;
  };
  const mode = (values.mode ?? 'thread') as Mode;
  if (!MODES.includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got '${String(values.mode)}'`);
  const rpm = int('rpm', 80, 1, 10_000_000);
  return {
    n: int('n', 500, 1, 100_000),
    mode,
    workers: int('workers', 4, 1, 64),
    concurrency: int('concurrency', 16, 1, 1000),
    rpm,
    tpm: int('tpm', Math.max(1000, rpm * 200), 1000, 2_000_000_000), // one request can charge a few hundred tokens
    minuteMs: int('minute-ms', 1000, 50, 600_000),
    failRate: decimal('fail-rate', 0.1, 0.9),
    malformedRate: decimal('malformed-rate', 0.1, 0.9),
    latency: decimal('latency', 40, 5000),
    marginMs: int('margin-ms', 30, 0, 10_000),
    unlimited: values.unlimited === true,
    seed: int('seed', 1, -2_147_483_648, 2_147_483_647),
    json: values.json === true,
    help: values.help === true,
  };
}

export interface DemoSummary {
  options: Omit<DemoOptions, 'json' | 'help'>;
  calls: number;
  succeeded: number;
  failed: number;
  /** Reasons of the first few failures. */
  failures: string[];
  attempts: number;
  retries: { total: number; rateLimited: number; serverError: number; validation: number; other: number };
  /** Calls whose final output passed validation only after a rejection was fed back. */
  repaired: number;
  provider: ProviderStats;
  elapsedMs: number;
  /** What the provider's limits allow at best for the work it accepted (requests ÷ rpm or tokens ÷ tpm). */
  boundMs: number;
  /** elapsedMs ÷ boundMs. */
  ratio: number;
  callsPerSecond: number;
  /** A repaired completion if there was one (else any), to show what came back. */
  sample?: Completion;
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const provider = await startProviderThread({
    rpm: o.rpm,
    tpm: o.tpm,
    minuteMs: o.minuteMs,
    failRate: o.failRate,
    malformedRate: o.malformedRate,
    latency: o.latency,
    seed: o.seed,
  });
  const llm = LLM.options({
    mode: o.mode,
    maxWorkers: o.workers,
    maxConcurrency: o.concurrency,
    // --unlimited keeps the same code path, with limits the provider hits long before we do.
    limits: o.unlimited
      ? limitsFor({ rpm: o.rpm * 1000, tpm: o.tpm * 1000, minuteMs: o.minuteMs, marginMs: 0, pace: 1 })
      : limitsFor({ rpm: o.rpm, tpm: o.tpm, minuteMs: o.minuteMs, marginMs: o.marginMs }),
    ...demoRetries,
  }).init(provider.url, { connections: o.concurrency });
  const retries = { total: 0, rateLimited: 0, serverError: 0, validation: 0, other: 0 };
  llm.on('retry', (e) => {
    retries.total++;
    const status = Number(e.error.status);
    if (e.error.name === 'ValidationFailed') retries.validation++;
    else if (status === 429) retries.rateLimited++;
    else if (status >= 500) retries.serverError++;
    else retries.other++; // timeouts, connection errors
  });
  try {
    await llm.ready();
    // One per worker (a pool hands concurrent calls to idle workers first): the clock starts with
    // every worker's connections open, as they are in a client that has been running.
    await gather(Array.from({ length: o.workers }, () => llm.connect()));
    const tasks = makeTasks(o.n);
    const started = performance.now();
    const results = await gather(
      tasks.map((task) => llm.complete(task)),
      { returnExceptions: true, progress: o.json ? false : { desc: 'LLM calls', width: 30 } },
    );
    const elapsedMs = performance.now() - started;
    const completions: Completion[] = [];
    const errors: unknown[] = [];
    for (const r of results) {
      if (r instanceof Error || typeof (r as Completion | undefined)?.text !== 'string') errors.push(r);
      else completions.push(r as Completion);
    }
    const method = llm.stats().methods.complete!;
    const boundMs = await provider.boundMs();
    const { json: _json, help: _help, ...options } = o;
    return {
      options,
      calls: o.n,
      succeeded: completions.length,
      failed: errors.length,
      failures: errors.slice(0, 5).map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))),
      attempts: method.attempts,
      retries,
      repaired: completions.filter((c) => c.feedback > 0).length,
      provider: await provider.stats(),
      elapsedMs,
      boundMs,
      ratio: elapsedMs / boundMs,
      callsPerSecond: (completions.length / elapsedMs) * 1000,
      sample: completions.find((c) => c.feedback > 0) ?? completions[0],
    };
  } finally {
    await llm.stop();
    await provider.close();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The human-readable report. */
export function formatSummary(s: DemoSummary): string {
  const o = s.options;
  const p = s.provider;
  const row = (label: string, value: string, note = '') => `  ${label.padEnd(34)}${value.padStart(10)}${note ? `   ${note}` : ''}`;
  const perMinute = o.minuteMs === 60_000 ? 'min' : `min (1 min = ${o.minuteMs} ms here)`;
  return [
    '',
    `${fmt(s.calls)} calls · ${o.mode} mode · ${o.workers} worker${o.workers === 1 ? '' : 's'} × ${o.concurrency} concurrent calls`,
    `provider: ${fmt(o.rpm)} requests and ${fmt(o.tpm)} tokens per ${perMinute}, ${Math.round(o.failRate * 100)}% 503s, ` +
      `${Math.round(o.malformedRate * 100)}% malformed outputs, ~${o.latency} ms latency`,
    '',
    row('calls succeeded', fmt(s.succeeded), s.failed ? `${fmt(s.failed)} FAILED` : 'none failed'),
    row('attempts', fmt(s.attempts)),
    row('retries', fmt(s.retries.total)),
    row('  after 429 (rate limited)', fmt(s.retries.rateLimited)),
    row('  after 5xx (transient)', fmt(s.retries.serverError)),
    row('  after validation failed', fmt(s.retries.validation)),
    ...(s.retries.other ? [row('  after other errors', fmt(s.retries.other))] : []),
    row('outputs repaired by feedback', fmt(s.repaired), `server saw ${fmt(p.malformed)} non-JSON, ${fmt(p.schemaViolations)} off-schema`),
    row('429s sent by the provider', fmt(p.rateLimited)),
    row('peak use of a window', `${Math.round((p.peakRequestsInWindow / o.rpm) * 100)}%`, `requests; tokens ${Math.round((p.peakTokensInWindow / o.tpm) * 100)}%`),
    row('elapsed', secs(s.elapsedMs)),
    row('theoretical bound', secs(s.boundMs), `${fmt(p.accepted)} requests ÷ ${fmt(o.rpm)}/min, ${fmt(p.tokensCharged)} tokens ÷ ${fmt(o.tpm)}/min`),
    row('elapsed ÷ bound', `${s.ratio.toFixed(2)}×`),
    row('throughput', `${s.callsPerSecond.toFixed(1)}/s`, 'calls'),
    ...(s.failures.length ? ['', 'first failures:', ...s.failures.map((f) => `  ${f}`)] : []),
    ...(s.sample
      ? ['', `${s.sample.feedback > 0 ? `repaired on attempt ${s.sample.attempt}` : `answer (attempt ${s.sample.attempt})`}: ${s.sample.text}`]
      : []),
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let options: DemoOptions;
  try {
    options = parseFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`demo: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const summary = await runDemo(options);
  process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);
  return summary.failed === 0 ? 0 : 1;
}

if (isMainModule(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
