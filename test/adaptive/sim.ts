/**
 * Clients that drive an AdaptiveLimit against a simulated sliding-window provider on a fake clock —
 * the llm-batch situation, reproducible in milliseconds of real time.
 */
import { FakeClock, sleep, type AdaptiveLimit } from '../../src/index.js';
import { SimProvider } from '../../benchmarks/lib/sim-provider.js';

export { SimProvider };

export interface SimOptions {
  clients?: number;
  latencyMs?: number;
  durationMs: number;
  /** Called every `sampleMs` with the time; returns nothing (use it to change the provider). */
  onTick?: (now: number) => void;
  sampleMs?: number;
}

/** Runs `clients` loops (acquire, request, wait the latency, report, release) until durationMs. */
export async function simulate(clock: FakeClock, limit: AdaptiveLimit, provider: SimProvider, o: SimOptions) {
  const { clients = 16, latencyMs = 40, durationMs, sampleMs = 100 } = o;
  const samples: { t: number; value: number; limit: number }[] = [];
  let stop = false;
  const loops = Array.from({ length: clients }, async () => {
    while (!stop) {
      const acq = await limit.acquire({ requests: 1 });
      const r = provider.request(clock.now());
      await sleep(r.ok ? latencyMs : 1, clock);
      acq.update(r.ok ? { requests: 1 } : { requests: 0, retryAfterMs: r.retryAfterMs });
      acq.release();
    }
  });
  for (let t = 0; t < durationMs; t += sampleMs) {
    o.onTick?.(clock.now());
    samples.push({ t: clock.now(), value: limit.value, limit: provider.limit });
    await clock.advance(sampleMs);
  }
  stop = true;
  await clock.runAll();
  await Promise.all(loops);
  return samples;
}
