/**
 * A retry budget: a token bucket shared by all workers of a handle, so that when everything fails,
 * retries stay a small fraction of calls instead of multiplying the load (the "retry storm").
 */
import { systemClock, type Clock } from '../clock.js';
import { checkBudget, type RetryBudgetOptions } from './options.js';
import { SuccessWindow } from './adaptive.js';

/** What the engine needs from a budget; remote workers reach the caller's budget through it. */
export interface RetryBudgetClient {
  /** A call started: deposits `ratio` tokens. */
  recordCall(): void;
  /** Retry number `retry` (1 = the first) wants to happen: withdraws one token, or says no. */
  tryRetry(retry?: number): boolean | Promise<boolean>;
  /** How many times the policy's wait to sleep before the retry (an adaptive budget; absent = 1). */
  stretch?(): number;
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

  /** With `adaptive`: the recent success rate, which scales retries and waits. */
  private readonly health?: SuccessWindow;

  constructor(options: RetryBudgetOptions, private readonly clock: Clock = systemClock) {
    checkBudget(options);
    if (options.adaptive) this.health = new SuccessWindow(options.adaptive, clock);
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
    this.health?.attempt();
  }

  tryRetry(retry?: number): boolean {
    this.refill();
    this.health?.failure();
    const cap = this.health?.maxRetries();
    if (this.tokens >= 1 && !(cap !== undefined && retry !== undefined && retry > cap)) {
      this.tokens -= 1;
      this.allowed++;
      this.health?.attempt();
      return true;
    }
    this.denied++;
    return false;
  }

  stretch(): number {
    return this.health?.stretch() ?? 1;
  }

  /** Tokens, allowed and denied retries; with `adaptive` also the success rate, current max retries (Infinity = as configured) and wait stretch. */
  stats(): { tokens: number; allowed: number; denied: number; successRate?: number; maxRetries?: number; stretch?: number } {
    this.refill();
    const base = { tokens: this.tokens, allowed: this.allowed, denied: this.denied };
    const h = this.health;
    return h ? { ...base, successRate: h.successRate(), maxRetries: h.maxRetries(), stretch: h.stretch() } : base;
  }

  private refill(): void {
    const now = this.clock.now();
    if (this.minPerSecond > 0 && now > this.last) {
      this.tokens = Math.min(this.cap, this.tokens + ((now - this.last) / 1000) * this.minPerSecond);
    }
    this.last = now;
  }
}
