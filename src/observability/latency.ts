/**
 * Per-method latency: the last {@link WINDOW} call durations in a ring (constant memory, no
 * allocation per call), sampled once past the first 2048 calls; percentiles are computed when someone asks for a snapshot.
 */

const WINDOW = 2048;
/** A power of two: see {@link LatencyRecorder.sampleNext}. */
const SAMPLE_EVERY = 8;

/** Call latency of one method, ms, over its most recent calls (see `samples`). */
export interface LatencySummary {
  /** Calls measured since the handle started: every call up to 2048, then one in 8. */
  count: number;
  /** Measured calls the percentiles are computed over (the most recent, at most 2048). */
  samples: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class LatencyRecorder {
  private readonly ring = new Float64Array(WINDOW);
  private count = 0;
  private offered = 0;

  /**
   * Whether the next call's latency should be measured: every call until the ring is full, then
   * one call in {@link SAMPLE_EVERY}: two clock reads per call are a noticeable share of an async
   * call, and a 1-in-8 sample of the recent calls gives the same percentiles
   * (docs/decisions/intrusive-pending-list.md).
   */
  sampleNext(): boolean {
    // One read of the field, and both tests made on every call: an operation first made at call
    // 2049 would lack type feedback in the optimized caller and throw it away.
    const offered = ++this.offered;
    const inWindow = offered <= WINDOW;
    const onSample = (offered & (SAMPLE_EVERY - 1)) === 0;
    return inWindow || onSample;
  }
  /**
   * Sum and max of every measured call, in a typed array rather than two fields: a field that
   * starts as 0 and later holds a fraction changes the object's hidden class, which throws away
   * optimized code that checked the old one (sampleNext was deoptimized that way at the start of a
   * fresh pool's second batch of calls).
   */
  private readonly totals = new Float64Array(2);

  record(ms: number): void {
    this.ring[this.count % WINDOW] = ms;
    this.count++;
    const totals = this.totals;
    totals[0] += ms;
    if (ms > totals[1]) totals[1] = ms;
  }

  summary(): LatencySummary {
    const n = Math.min(this.count, WINDOW);
    const sorted = this.ring.slice(0, n).sort();
    const at = (q: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]);
    return {
      count: this.count,
      samples: n,
      mean: this.count === 0 ? 0 : this.totals[0] / this.count,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: this.totals[1],
    };
  }
}
