/**
 * Adaptive retries, as part of the retry budget: the success rate of recent attempts (a sliding
 * window of time buckets) scales how many retries a call may make and how long it waits. While
 * the rate is at least `healthy`, the configured retries and waits apply; below it, retry k is
 * allowed only while health h = rate ÷ healthy is at least k/(k+1) — so h 0.8 allows 4 retries,
 * 0.5 one, under 0.5 none — and waits are stretched up to `maxStretch`× as h falls to 0. Fewer
 * than 10 attempts in the window count as healthy.
 */
import { checkNumber, configError, rejectUnknownKeys } from '../config/validate.js';
import type { Clock } from '../clock.js';

/** Options of `retryBudget.adaptive`. */
export interface AdaptiveRetryOptions {
  /** The window the success rate is measured over, ms; default 10 000. */
  windowMs?: number;
  /** At or above this success rate, retries are as configured; default 0.9. */
  healthy?: number;
  /** Waits are stretched up to this factor when every attempt fails; default 4. */
  maxStretch?: number;
}

export function checkAdaptiveRetry(value: unknown): AdaptiveRetryOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configError('retryBudget.adaptive', value, '{ windowMs?, healthy?, maxStretch? }');
  rejectUnknownKeys('retryBudget.adaptive option', value, ['windowMs', 'healthy', 'maxStretch']);
  const o = value as AdaptiveRetryOptions;
  if (o.windowMs !== undefined) checkNumber('retryBudget.adaptive.windowMs', o.windowMs, 1, Number.MAX_SAFE_INTEGER);
  if (o.healthy !== undefined) checkNumber('retryBudget.adaptive.healthy', o.healthy, Number.MIN_VALUE, 1);
  if (o.maxStretch !== undefined) checkNumber('retryBudget.adaptive.maxStretch', o.maxStretch, 1, 1000);
  return o;
}

const BUCKETS = 10;
/** Attempts in the window before the success rate counts. */
const MIN_ATTEMPTS = 10;

/** Attempts and failed attempts over the last window, in buckets of a tenth of it. */
export class SuccessWindow {
  private readonly bucketMs: number;
  private readonly attempts = new Float64Array(BUCKETS);
  private readonly failures = new Float64Array(BUCKETS);
  /** The bucket number (time ÷ bucketMs) each slot holds. */
  private readonly slots = new Float64Array(BUCKETS).fill(-1);
  private readonly healthy: number;
  private readonly maxStretch: number;

  constructor(
    options: AdaptiveRetryOptions,
    private readonly clock: Clock,
  ) {
    this.bucketMs = (options.windowMs ?? 10_000) / BUCKETS;
    this.healthy = options.healthy ?? 0.9;
    this.maxStretch = options.maxStretch ?? 4;
  }

  /** An attempt started (a call, or an allowed retry). */
  attempt(): void {
    this.attempts[this.slot()]++;
  }

  /** An attempt failed and wants a retry. */
  failure(): void {
    this.failures[this.slot()]++;
  }

  /** Successful share of the window's attempts; 1 while there were fewer than MIN_ATTEMPTS. */
  successRate(): number {
    this.slot();
    let a = 0;
    let f = 0;
    for (let i = 0; i < BUCKETS; i++) {
      a += this.attempts[i];
      f += this.failures[i];
    }
    // Too few attempts say nothing yet: a first failure must not read as "everything fails".
    return a < MIN_ATTEMPTS ? 1 : Math.max(0, 1 - f / a);
  }

  /** The most retries a call may make now (Infinity = as configured). */
  maxRetries(): number {
    const h = Math.min(1, this.successRate() / this.healthy);
    return h >= 1 ? Infinity : Math.floor(h / (1 - h) + 1e-9);
  }

  /** How many times the configured wait to sleep now. */
  stretch(): number {
    const h = Math.min(1, this.successRate() / this.healthy);
    return 1 + (this.maxStretch - 1) * (1 - h);
  }

  /** The slot of the current bucket, cleared if it held an older one. */
  private slot(): number {
    const bucket = Math.floor(this.clock.now() / this.bucketMs);
    const i = bucket % BUCKETS;
    if (this.slots[i] !== bucket) {
      // Also clear slots skipped while nothing happened: they hold buckets older than the window.
      for (let j = 0; j < BUCKETS; j++) {
        if (this.slots[j] <= bucket - BUCKETS) {
          this.attempts[j] = 0;
          this.failures[j] = 0;
          this.slots[j] = -1;
        }
      }
      this.attempts[i] = 0;
      this.failures[i] = 0;
      this.slots[i] = bucket;
    }
    return i;
  }
}
