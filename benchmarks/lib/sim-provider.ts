/**
 * A provider with a sliding-window request limit for fake-clock simulations (refused requests
 * count against it, as the demo's provider does). Used by test/adaptive and benchmarks/adaptive-sim.ts.
 */
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
