/**
 * The controller behind {@link AdaptiveLimit}: a value that grows while calls succeed and is cut
 * when the provider pushes back. TCP's congestion control, on a limit:
 * - slow start: until the first cut, every saturated success adds two units, so a value that is
 *   used in full triples per window — a bad first guess is corrected in a few windows;
 * - additive increase: after a cut, back to the last good value (the lower of the value and the
 *   accepted rate when it was cut) in about two windows, then probing past it by `step` units per
 *   window, the step doubling every half window without a cut (capped at 64×), so a limit that was
 *   raised again is found in a few seconds instead of minutes (CUBIC's shape, in steps);
 * - multiplicative decrease: an overload (429, throttling error, Retry-After) or latency risen
 *   past `latencyTolerance` × its baseline multiplies the value by `decrease` (a rate: or cuts it
 *   to 95% of what the provider takes — last window's accepted calls over the window and the
 *   Retry-After pause — if that is lower);
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
  /** Units per window added when probing past the last good value; undefined = 2% of the last good value, at least 1. */
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
const MAX_BOOST = 64;
/** Slow start adds this per saturated success: a value used in full triples per window. */
const SLOW_START_GAIN = 2;
/** The default additive step when probing: this share of the last good value, per window. */
const STEP_SHARE = 0.02;
/** Probing doubles its step this often, in windows: a doubled provider limit is found in about 4 s. */
const BOOST_EVERY = 0.5;
/** After a cut, the value returns to the last good value over this many windows. */
const RECOVERY_WINDOWS = 2;
/** Growth is fast up to this share of the last good value, then probes slowly. */
const NEAR_LAST_GOOD = 0.97;
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
  /** What was last known to work: the lower of the value and the measured accepted rate at the last cut. */
  private lastGood = 0;
  /** Below lastGood: units per window back towards it (the gap the last cut opened ÷ RECOVERY_WINDOWS). */
  private recovery = 0;
  private lastCutAt = -Infinity;
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
    this.step = s.increase ?? Math.max(1, s.initial * STEP_SHARE);
    this.boostSince = now;
  }

  /** A call granted in `epoch` succeeded after `latencyMs`; `saturated` = demand exceeded the value when it was granted. */
  success(epoch: number, latencyMs: number | undefined, saturated: boolean, now: number): AdaptiveReason | undefined {
    if (latencyMs !== undefined && this.latencyRose(latencyMs) && epoch === this.epoch) return this.cut(now, 'latency');
    if (!saturated || this.value >= this.s.ceiling) return undefined;
    if (this.slowStart) {
      this.value = Math.min(this.s.ceiling, this.value + SLOW_START_GAIN);
    } else {
      let perWindow: number;
      if (this.value < this.lastGood * NEAR_LAST_GOOD) {
        // Below what last worked: back to it at a steady pace. (Halving the gap each window
        // approached it for ever: with a cut just before a provider restored its limit, the
        // value took 9 s to come back up.)
        perWindow = Math.max(this.step, this.recovery);
        this.boostSince = now;
      } else {
        // At or past it: probe, slowly at first, the step doubling every half window without a cut.
        if (now - this.boostSince >= this.s.window * BOOST_EVERY) {
          this.boost = Math.min(MAX_BOOST, this.boost * 2);
          this.boostSince = now;
        }
        perWindow = this.step * this.boost;
      }
      this.value = Math.min(this.s.ceiling, this.value + perWindow / Math.max(1, this.value));
    }
    this.increases++;
    return 'increase';
  }

  /**
   * A call granted in `epoch` was refused by the provider. Cuts once per epoch, to `decrease` ×
   * the value — or lower, to {@link MEASURED_SHARE} of `accepted` (what the provider takes: the
   * calls it accepted in the last window, over the window and the pause its Retry-After asks for,
   * when the caller counts them): a provider that halved its limit is followed in one or two cuts
   * instead of seven.
   */
  overload(epoch: number, now: number, accepted?: number): AdaptiveReason | undefined {
    if (epoch !== this.epoch) return undefined;
    return this.cut(now, 'overload', accepted);
  }

  private cut(now: number, reason: AdaptiveReason, accepted?: number): AdaptiveReason {
    const before = this.value;
    // A measured cut goes at most halfway per epoch: right after an overshoot the provider refuses
    // everything for a moment, and what it accepted then understates what it accepts.
    const measured = accepted === undefined ? Infinity : Math.max(accepted * MEASURED_SHARE, before * 0.5);
    // Cuts in a row (within a window) are one overshoot draining: the first saw what worked.
    const fresh = Math.min(before, accepted ?? Infinity);
    this.lastGood = now - this.lastCutAt <= this.s.window ? Math.max(this.lastGood, fresh) : fresh;
    this.lastCutAt = now;
    this.value = Math.max(this.s.floor, Math.min(this.s.ceiling, before * this.s.decrease, measured));
    // The probing step scales with what worked, not with how deep the cut went.
    this.step = this.s.increase ?? Math.max(1, Math.max(this.value, this.lastGood) * STEP_SHARE);
    this.recovery = (this.lastGood - this.value) / RECOVERY_WINDOWS;
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
