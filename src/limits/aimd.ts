/**
 * The controller behind {@link AdaptiveLimit}: a value that grows while calls succeed and is cut
 * when the provider pushes back. TCP's congestion control, on a limit:
 * - slow start: until the first cut, every saturated success adds one unit, so a value that is
 *   used in full doubles per window — a bad first guess is corrected in a few windows;
 * - additive increase: after a cut, `step` units per window, the step doubling for each window
 *   without a cut (capped at 16×), so a limit that was raised again is found in a few windows
 *   instead of hundreds;
 * - multiplicative decrease: an overload (429, throttling error, Retry-After) or latency risen
 *   past `latencyTolerance` × its baseline multiplies the value by `decrease` (a rate: or cuts it
 *   to 95% of what the provider accepted in the last window, if that is lower);
 * - one cut per epoch: outcomes of calls granted before the last cut are old news (they were sent
 *   at the old value) and cut nothing — otherwise a burst of 429s in flight would cut it to the floor.
 * Only saturated successes (the caller wanted more than the value allowed) grow it, so an idle
 * client does not inflate a value it never tested. Pure logic on an injected time: no timers.
 */

/** Why the value changed. */
export type AdaptiveReason = 'increase' | 'overload' | 'latency';

/** Options of the controller (checked by AdaptiveLimit). */
export interface AimdSettings {
  initial: number;
  floor: number;
  ceiling: number;
  decrease: number;
  /** Units per window added after a cut; undefined = 2% of the value at the last cut, at least 1. */
  increase: number | undefined;
  /** Latency above this × the baseline counts as overload; Infinity = off. */
  latencyTolerance: number;
  /** The period additive increase and the step's doubling are counted over, ms. */
  window: number;
}

/** Latency samples before the latency signal counts (the baseline needs some history). */
const LATENCY_WARMUP = 20;
/** Weight of a new latency sample in the smoothed latency. */
const LATENCY_ALPHA = 0.1;
const MAX_BOOST = 16;
/** A measured cut goes to this share of what the provider accepted in the last window. */
const MEASURED_SHARE = 0.95;

export class Aimd {
  /** The exact value; the limit grants floor(value) (concurrency) or value per window (rate). */
  value: number;
  /** Bumped on every cut; a grant remembers the epoch it was made in. */
  epoch = 0;
  slowStart = true;
  increases = 0;
  decreases = 0;
  private step: number;
  private boost = 1;
  private boostSince: number;
  private latencyAvg = 0;
  private latencyBase = Infinity;
  private samples = 0;

  constructor(
    private readonly s: AimdSettings,
    now: number,
  ) {
    this.value = s.initial;
    this.step = s.increase ?? Math.max(1, s.initial * 0.02);
    this.boostSince = now;
  }

  /** A call granted in `epoch` succeeded after `latencyMs`; `saturated` = demand exceeded the value when it was granted. */
  success(epoch: number, latencyMs: number | undefined, saturated: boolean, now: number): AdaptiveReason | undefined {
    if (latencyMs !== undefined && this.latencyRose(latencyMs) && epoch === this.epoch) return this.cut(now, 'latency');
    if (!saturated || this.value >= this.s.ceiling) return undefined;
    if (this.slowStart) {
      this.value = Math.min(this.s.ceiling, this.value + 1);
    } else {
      if (now - this.boostSince >= this.s.window) {
        this.boost = Math.min(MAX_BOOST, this.boost * 2);
        this.boostSince = now;
      }
      this.value = Math.min(this.s.ceiling, this.value + (this.step * this.boost) / Math.max(1, this.value));
    }
    this.increases++;
    return 'increase';
  }

  /**
   * A call granted in `epoch` was refused by the provider. Cuts once per epoch, to `decrease` ×
   * the value — or lower, to {@link MEASURED_SHARE} of `accepted` (what the provider accepted in
   * the last window, when the caller counts it): a provider that halved its limit is followed in
   * one or two cuts instead of seven.
   */
  overload(epoch: number, now: number, accepted?: number): AdaptiveReason | undefined {
    if (epoch !== this.epoch) return undefined;
    return this.cut(now, 'overload', accepted === undefined ? Infinity : accepted * MEASURED_SHARE);
  }

  private cut(now: number, reason: AdaptiveReason, measured = Infinity): AdaptiveReason {
    this.value = Math.max(this.s.floor, Math.min(this.s.ceiling, this.value * this.s.decrease, measured));
    this.step = this.s.increase ?? Math.max(1, this.value * 0.02);
    this.slowStart = false;
    this.boost = 1;
    this.boostSince = now;
    this.epoch++;
    this.decreases++;
    // The latency that caused a cut is not the new baseline's problem: start averaging afresh.
    this.samples = 0;
    return reason;
  }

  /** Smooths the sample in; true when the smoothed latency left `latencyTolerance` × the baseline. */
  private latencyRose(latencyMs: number): boolean {
    if (this.s.latencyTolerance === Infinity) return false;
    this.latencyAvg = this.samples === 0 ? latencyMs : this.latencyAvg + LATENCY_ALPHA * (latencyMs - this.latencyAvg);
    this.samples++;
    if (this.samples < LATENCY_WARMUP) return false;
    // The baseline is the lowest smoothed latency seen, drifting up 0.1% a sample so that a
    // permanently slower provider becomes the new normal instead of a cut forever.
    this.latencyBase = Math.min(this.latencyBase * 1.001, this.latencyAvg);
    return this.latencyAvg > this.latencyBase * this.s.latencyTolerance;
  }

  /** The smoothed latency and its baseline, ms (undefined before any sample). */
  latency(): { avg: number; baseline: number } | undefined {
    return this.samples === 0 && this.latencyBase === Infinity ? undefined : { avg: this.latencyAvg, baseline: this.latencyBase };
  }
}
