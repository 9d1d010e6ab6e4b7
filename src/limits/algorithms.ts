/**
 * Rate-limit algorithms on integer arithmetic: time is whole ms and amounts are scaled so that
 * rates like 7 per 1000 ms never round (Python concurry's leaky bucket loses fractional progress
 * and can stall; these don't). Each answers "how long until `n` fits" (0 = now) and commits
 * separately, so a LimitSet can take several limits all-or-nothing.
 */

export type RateAlgorithmName = 'token-bucket' | 'leaky-bucket' | 'sliding-window' | 'fixed-window' | 'gcra';
export const RATE_ALGORITHMS: readonly RateAlgorithmName[] = ['token-bucket', 'leaky-bucket', 'sliding-window', 'fixed-window', 'gcra'];

export interface RateAlgorithm {
  /** ms until `n` can be taken at `now` (0 = now). Never called with n > capacity. */
  waitFor(now: number, n: number): number;
  /** Takes `n` at `now` (only after waitFor returned 0). */
  take(now: number, n: number): void;
  /** Gives back `n` unused units (only algorithms that refund do anything). */
  refund(now: number, n: number): void;
  /** Units available now. */
  available(now: number): number;
  stats(now: number): Record<string, number | string>;
}

/** Token bucket: starts full, refills continuously at capacity per window, refunds unused tokens. Bursts up to capacity. */
export class TokenBucket implements RateAlgorithm {
  /** Tokens × window (so refill per ms is exactly `capacity`). */
  private scaled: number;
  private last: number;
  constructor(private readonly capacity: number, private readonly window: number, now: number) {
    this.scaled = capacity * window;
    this.last = now;
  }
  private refill(now: number) {
    if (now > this.last) this.scaled = Math.min(this.capacity * this.window, this.scaled + (now - this.last) * this.capacity);
    this.last = Math.max(this.last, now);
  }
  waitFor(now: number, n: number) {
    this.refill(now);
    const missing = n * this.window - this.scaled;
    return missing <= 0 ? 0 : Math.ceil(missing / this.capacity);
  }
  take(now: number, n: number) {
    this.refill(now);
    this.scaled -= n * this.window;
  }
  refund(now: number, n: number) {
    this.refill(now);
    this.scaled = Math.min(this.capacity * this.window, this.scaled + n * this.window);
  }
  available(now: number) {
    this.refill(now);
    return Math.floor(this.scaled / this.window);
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'token-bucket', available, capacity: this.capacity, utilization: 1 - available / this.capacity };
  }
}

/** Leaky bucket (a meter): the level rises by each request and drains at capacity per window, keeping fractional progress. Bursts up to capacity; no refunds. */
export class LeakyBucket implements RateAlgorithm {
  /** Level × window. */
  private level = 0;
  private last: number;
  constructor(private readonly capacity: number, private readonly window: number, now: number) {
    this.last = now;
  }
  private leak(now: number) {
    if (now > this.last) this.level = Math.max(0, this.level - (now - this.last) * this.capacity);
    this.last = Math.max(this.last, now);
  }
  waitFor(now: number, n: number) {
    this.leak(now);
    const over = this.level + n * this.window - this.capacity * this.window;
    return over <= 0 ? 0 : Math.ceil(over / this.capacity);
  }
  take(now: number, n: number) {
    this.leak(now);
    this.level += n * this.window;
  }
  refund() {}
  available(now: number) {
    this.leak(now);
    return Math.floor((this.capacity * this.window - this.level) / this.window);
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'leaky-bucket', available, capacity: this.capacity, utilization: 1 - available / this.capacity };
  }
}

/** Sliding window log: strict — never more than capacity within any window of the given length. */
export class SlidingWindow implements RateAlgorithm {
  private readonly times: number[] = [];
  private readonly amounts: number[] = [];
  private head = 0;
  private sum = 0;
  constructor(private readonly capacity: number, private readonly window: number) {}
  private expire(now: number) {
    while (this.head < this.times.length && this.times[this.head]! + this.window <= now) {
      this.sum -= this.amounts[this.head]!;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.amounts.splice(0, this.head);
      this.head = 0;
    }
  }
  waitFor(now: number, n: number) {
    this.expire(now);
    let excess = this.sum + n - this.capacity;
    if (excess <= 0) return 0;
    for (let i = this.head; i < this.times.length; i++) {
      excess -= this.amounts[i]!;
      if (excess <= 0) return this.times[i]! + this.window - now;
    }
    return this.window;
  }
  take(now: number, n: number) {
    this.expire(now);
    this.times.push(now);
    this.amounts.push(n);
    this.sum += n;
  }
  refund() {}
  available(now: number) {
    this.expire(now);
    return this.capacity - this.sum;
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'sliding-window', available, capacity: this.capacity, window: this.window, utilization: 1 - available / this.capacity };
  }
}

/** Fixed window: a counter reset every window (windows start at the first use, not the wall clock). Up to 2× capacity across a boundary. */
export class FixedWindow implements RateAlgorithm {
  private count = 0;
  private start: number;
  constructor(private readonly capacity: number, private readonly window: number, now: number) {
    this.start = now;
  }
  private roll(now: number) {
    if (now - this.start >= this.window) {
      this.start += Math.floor((now - this.start) / this.window) * this.window;
      this.count = 0;
    }
  }
  waitFor(now: number, n: number) {
    this.roll(now);
    return this.count + n <= this.capacity ? 0 : this.start + this.window - now;
  }
  take(now: number, n: number) {
    this.roll(now);
    this.count += n;
  }
  refund() {}
  available(now: number) {
    this.roll(now);
    return this.capacity - this.count;
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'fixed-window', available, capacity: this.capacity, window: this.window, windowStart: this.start, utilization: 1 - available / this.capacity };
  }
}

/**
 * GCRA: the theoretical arrival time (TAT) advances by n·T per request (T = window / capacity);
 * a request fits when TAT − now stays within τ = window. Times are scaled by capacity, so T is an
 * integer. Bursts up to capacity; refunds move TAT back.
 */
export class Gcra implements RateAlgorithm {
  /** TAT × capacity. */
  private tat: number;
  constructor(private readonly capacity: number, private readonly window: number, now: number) {
    this.tat = now * capacity;
  }
  waitFor(now: number, n: number) {
    const nowS = now * this.capacity;
    const over = Math.max(this.tat, nowS) + n * this.window - nowS - this.window * this.capacity;
    return over <= 0 ? 0 : Math.ceil(over / this.capacity);
  }
  take(now: number, n: number) {
    this.tat = Math.max(this.tat, now * this.capacity) + n * this.window;
  }
  refund(now: number, n: number) {
    this.tat = Math.max(now * this.capacity, this.tat - n * this.window);
  }
  available(now: number) {
    const nowS = now * this.capacity;
    return Math.min(this.capacity, Math.floor((nowS + this.window * this.capacity - Math.max(this.tat, nowS)) / this.window));
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'gcra', available, capacity: this.capacity, emissionIntervalMs: this.window / this.capacity, utilization: 1 - available / this.capacity };
  }
}

export function createAlgorithm(name: RateAlgorithmName, capacity: number, window: number, now: number): RateAlgorithm {
  switch (name) {
    case 'token-bucket':
      return new TokenBucket(capacity, window, now);
    case 'leaky-bucket':
      return new LeakyBucket(capacity, window, now);
    case 'sliding-window':
      return new SlidingWindow(capacity, window);
    case 'fixed-window':
      return new FixedWindow(capacity, window, now);
    case 'gcra':
      return new Gcra(capacity, window, now);
  }
}
