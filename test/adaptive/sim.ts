/**
 * A provider with a sliding-window request limit on a fake clock (refused requests count against
 * it, as the demo's provider does), and clients that drive an AdaptiveLimit against it — the
 * llm-batch situation, reproducible in milliseconds of real time.
 */
import { FakeClock, sleep, type AdaptiveLimit } from '../../src/index.js';

export class SimProvider {
  private log: number[] = [];
  accepted = 0;
  refused = 0;

  constructor(
    public limit: number,
    readonly window: number,
  ) {}

  /** A request arriving at `now`: accepted, or refused with the ms until a slot frees. */
  request(now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    while (this.log.length > 0 && this.log[0]! <= now - this.window) this.log.shift();
    const full = this.log.length >= this.limit;
    this.log.push(now);
    if (!full) {
      this.accepted++;
      return { ok: true };
    }
    this.refused++;
    if (this.limit <= 0) return { ok: false, retryAfterMs: this.window };
    const k = this.log.length - this.limit; // the entry whose expiry leaves room for one more
    return { ok: false, retryAfterMs: Math.max(1, this.log[k]! + this.window - now) };
  }
}

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
