/**
 * llm-batch helpers for clients told nothing about the provider's limits: the concurry pool with
 * an AdaptiveLimit (sampled over time for the chart), and the bound for a provider whose limits
 * change mid-batch.
 */
import { AdaptiveLimit, gather } from '../../src/index.js';
import { AdaptiveLLM, demoRetries } from '../../examples/llm/client.js';
import { MODELS_PATH } from '../../examples/llm/protocol.js';
import type { ProviderOptions } from '../../examples/llm/provider.js';
import { startProviderThread } from '../../examples/llm/provider-thread.js';

/** From `atMs` after the batch starts, the provider's limits are `rpm` and `tpm`. */
export interface LimitChange {
  atMs: number;
  rpm: number;
  tpm: number;
}

/** One sample of the chart: the adapted rate and the provider's true rate, requests/s. */
export interface TimelinePoint {
  t: number;
  value: number;
  truth: number;
}

export interface UntoldRun {
  makespanMs: number;
  accepted: number;
  tokensCharged: number;
  requests: number;
  rateLimited: number;
  succeeded: number;
  failed: number;
  timeline: TimelinePoint[];
  decreases: number;
}

/**
 * The least time a provider with these (changing) limits needs to accept `accepted` requests
 * charging `tokens`: whichever of requests and tokens takes longer, each at the limit in force.
 */
export function boundUnder(base: { rpm: number; tpm: number; minuteMs: number }, changes: LimitChange[], accepted: number, tokens: number): number {
  const timeFor = (amount: number, rateAt: (c: { rpm: number; tpm: number }) => number) => {
    const steps = [{ atMs: 0, rpm: base.rpm, tpm: base.tpm }, ...changes];
    let left = amount;
    for (let i = 0; i < steps.length; i++) {
      const perMs = rateAt(steps[i]!) / base.minuteMs;
      const end = steps[i + 1]?.atMs ?? Infinity;
      const canDo = (end - steps[i]!.atMs) * perMs;
      if (canDo >= left) return steps[i]!.atMs + left / perMs;
      left -= canDo;
    }
    return Infinity;
  };
  return Math.max(
    timeFor(accepted, (c) => c.rpm),
    timeFor(tokens, (c) => c.tpm),
  );
}

/**
 * The concurry pool (async mode, 4 workers × 16 calls, the demo's retries and validator) with an
 * AdaptiveLimit instead of the provider's limits; `changes` are applied to the provider on time.
 */
export async function runUntoldConcurry(providerOptions: Required<Pick<ProviderOptions, 'rpm' | 'tpm' | 'minuteMs'>> & ProviderOptions, tasks: string[], perRequestTokens: number, changes: LimitChange[] = []): Promise<UntoldRun> {
  const provider = await startProviderThread(providerOptions);
  const limit = new AdaptiveLimit({ key: 'requests', window: 1000, initial: 20, ceiling: 100_000 });
  const llm = AdaptiveLLM.options({
    mode: 'async',
    maxWorkers: 4,
    maxConcurrency: 16,
    limits: limit,
    ...demoRetries,
  }).init(provider.url);
  let current = { rpm: providerOptions.rpm, tpm: providerOptions.tpm };
  const truth = () => (Math.min(current.rpm, current.tpm / perRequestTokens) * 1000) / providerOptions.minuteMs;
  const timeline: TimelinePoint[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    await (await fetch(provider.url + MODELS_PATH)).arrayBuffer();
    await llm.ready();
    const t0 = performance.now();
    const sample = () => timeline.push({ t: Math.round(performance.now() - t0), value: limit.value, truth: truth() });
    sample();
    timers.push(setInterval(sample, 100));
    for (const c of changes) {
      timers.push(
        setTimeout(() => {
          current = { rpm: c.rpm, tpm: c.tpm };
          void provider.setLimits(current);
        }, c.atMs),
      );
    }
    const results = await gather(
      tasks.map((task) => llm.complete(task)),
      { returnExceptions: true },
    );
    const makespanMs = performance.now() - t0;
    sample();
    const s = await provider.stats();
    const succeeded = results.filter((r) => !(r instanceof Error)).length;
    const decreases = (limit.stats().requests as { decreases: number }).decreases;
    return { makespanMs, accepted: s.accepted, tokensCharged: s.tokensCharged, requests: s.requests, rateLimited: s.rateLimited, succeeded, failed: tasks.length - succeeded, timeline, decreases };
  } finally {
    for (const t of timers) clearTimeout(t);
    await llm.stop();
    await provider.close();
  }
}
