/**
 * A retry budget: a token bucket shared by all workers of a handle, so that when everything fails,
 * retries stay a small fraction of calls instead of multiplying the load (the "retry storm").
 */
import { systemClock, type Clock } from '../clock.js';
import { checkBudget, type RetryBudgetOptions } from './options.js';

/** What the engine needs from a budget; remote workers reach the caller's budget through it. */
export interface RetryBudgetClient {
  /** A call started: deposits `ratio` tokens. */
  recordCall(): void;
  /** A retry wants to happen: withdraws one token, or says no. */
  tryRetry(): boolean | Promise<boolean>;
}

export class RetryBudget implements RetryBudgetClient {
  private tokens: number;
  private last: number;
  private readonly ratio: number;
  private readonly minPerSecond: number;
  private readonly cap: number;
  /** Retries refused so far. */
  denied = 0;
  /** Retries allowed so far. */
  allowed = 0;

  constructor(options: RetryBudgetOptions, private readonly clock: Clock = systemClock) {
    checkBudget(options);
    this.ratio = options.ratio;
    this.minPerSecond = options.minPerSecond ?? 10;
    // Enough headroom for a burst of ten seconds' floor, or a hundred calls' worth of ratio.
    this.cap = Math.max(1, this.minPerSecond * 10 + this.ratio * 100);
    this.tokens = Math.min(this.cap, this.minPerSecond);
    this.last = clock.now();
  }

  recordCall(): void {
    this.refill();
    this.tokens = Math.min(this.cap, this.tokens + this.ratio);
  }

  tryRetry(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.allowed++;
      return true;
    }
    this.denied++;
    return false;
  }

  stats(): { tokens: number; allowed: number; denied: number } {
    this.refill();
    return { tokens: this.tokens, allowed: this.allowed, denied: this.denied };
  }

  private refill(): void {
    const now = this.clock.now();
    if (this.minPerSecond > 0 && now > this.last) {
      this.tokens = Math.min(this.cap, this.tokens + ((now - this.last) / 1000) * this.minPerSecond);
    }
    this.last = now;
  }
}
