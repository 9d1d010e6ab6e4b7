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
  /**
   * Moves the state into shared memory (once) and returns it, so other threads can attach to it
   * with {@link createAlgorithm}; the caller serializes access (LimitSet holds a lock).
   */
  share(): Float64Array;
}

/**
 * Every algorithm keeps its numbers in one Float64Array rather than in fields: the same code then
 * runs on private memory (a set used in one thread) and on a SharedArrayBuffer (a set shared by
 * thread workers) — one engine, not a shared-memory copy of it.
 */
abstract class StateCells {
  protected s: Float64Array;
  constructor(size: number, attached?: Float64Array) {
    this.s = attached ?? new Float64Array(size);
  }
  share(): Float64Array {
    if (!(this.s.buffer instanceof SharedArrayBuffer)) this.s = toShared(this.s, this.s.length);
    return this.s;
  }
}

function toShared(from: Float64Array, length: number): Float64Array {
  const to = new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
  to.set(from.subarray(0, Math.min(from.length, length)));
  return to;
}

const SCALED = 0;
const LAST = 1;

/** Token bucket: starts full, refills continuously at capacity per window, refunds unused tokens. Bursts up to capacity. */
class TokenBucket extends StateCells implements RateAlgorithm {
  // s[SCALED]: tokens × window (so refill per ms is exactly `capacity`); s[LAST]: last refill, ms.
  constructor(private readonly capacity: number, private readonly window: number, now: number, attached?: Float64Array) {
    super(2, attached);
    if (!attached) {
      this.s[SCALED] = capacity * window;
      this.s[LAST] = now;
    }
  }
  private refill(now: number) {
    const s = this.s;
    if (now > s[LAST]) s[SCALED] = Math.min(this.capacity * this.window, s[SCALED] + (now - s[LAST]) * this.capacity);
    s[LAST] = Math.max(s[LAST], now);
  }
  waitFor(now: number, n: number) {
    this.refill(now);
    const missing = n * this.window - this.s[SCALED];
    return missing <= 0 ? 0 : Math.ceil(missing / this.capacity);
  }
  take(now: number, n: number) {
    this.refill(now);
    this.s[SCALED] -= n * this.window;
  }
  refund(now: number, n: number) {
    this.refill(now);
    this.s[SCALED] = Math.min(this.capacity * this.window, this.s[SCALED] + n * this.window);
  }
  available(now: number) {
    this.refill(now);
    return Math.floor(this.s[SCALED] / this.window);
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'token-bucket', available, capacity: this.capacity, utilization: 1 - available / this.capacity };
  }
}

const LEVEL = 0;

/** Leaky bucket (a meter): the level rises by each request and drains at capacity per window, keeping fractional progress. Bursts up to capacity; no refunds. */
class LeakyBucket extends StateCells implements RateAlgorithm {
  // s[LEVEL]: level × window; s[LAST]: last drain, ms.
  constructor(private readonly capacity: number, private readonly window: number, now: number, attached?: Float64Array) {
    super(2, attached);
    if (!attached) this.s[LAST] = now;
  }
  private leak(now: number) {
    const s = this.s;
    if (now > s[LAST]) s[LEVEL] = Math.max(0, s[LEVEL] - (now - s[LAST]) * this.capacity);
    s[LAST] = Math.max(s[LAST], now);
  }
  waitFor(now: number, n: number) {
    this.leak(now);
    const over = this.s[LEVEL] + n * this.window - this.capacity * this.window;
    return over <= 0 ? 0 : Math.ceil(over / this.capacity);
  }
  take(now: number, n: number) {
    this.leak(now);
    this.s[LEVEL] += n * this.window;
  }
  refund() {}
  available(now: number) {
    this.leak(now);
    return Math.floor((this.capacity * this.window - this.s[LEVEL]) / this.window);
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'leaky-bucket', available, capacity: this.capacity, utilization: 1 - available / this.capacity };
  }
}

const HEAD = 0;
const COUNT = 1;
const SUM = 2;
const RING = 3;

/** Most entries a sliding window log keeps (1 MB): a day-long window must not cost gigabytes. */
export const MAX_LOG_ENTRIES = 65_536;

/**
 * Sliding window log: strict — never more than capacity within any window of the given length.
 * The log is a ring of (ms, amount) entries, one per distinct ms, so it needs at most
 * min(capacity, window) entries, and keeps at most {@link MAX_LOG_ENTRIES}: when full, the two
 * oldest entries merge into the later one's time, which can only delay their expiry (the limit
 * stays strict; it may admit a little less). Private memory starts small and grows; shared memory
 * is sized for the maximum up front (a SharedArrayBuffer cannot grow).
 */
export class SlidingWindow extends StateCells implements RateAlgorithm {
  private readonly maxEntries: number;
  constructor(
    private readonly capacity: number,
    private readonly window: number,
    attached?: Float64Array,
    maxLogEntries = MAX_LOG_ENTRIES,
  ) {
    const maxEntries = Math.min(capacity, window, maxLogEntries) + 1;
    super(RING + 2 * Math.min(maxEntries, 16), attached);
    this.maxEntries = maxEntries;
  }
  private get ringSize(): number {
    return (this.s.length - RING) >> 1;
  }
  private timeAt(i: number): number {
    return this.s[RING + 2 * ((this.s[HEAD] + i) % this.ringSize)];
  }
  private amountAt(i: number): number {
    return this.s[RING + 2 * ((this.s[HEAD] + i) % this.ringSize) + 1];
  }
  private expire(now: number) {
    const s = this.s;
    while (s[COUNT] > 0 && this.timeAt(0) + this.window <= now) {
      s[SUM] -= this.amountAt(0);
      s[HEAD] = (s[HEAD] + 1) % this.ringSize;
      s[COUNT]--;
    }
  }
  waitFor(now: number, n: number) {
    this.expire(now);
    let excess = this.s[SUM] + n - this.capacity;
    if (excess <= 0) return 0;
    const count = this.s[COUNT];
    for (let i = 0; i < count; i++) {
      excess -= this.amountAt(i);
      if (excess <= 0) return this.timeAt(i) + this.window - now;
    }
    return this.window;
  }
  take(now: number, n: number) {
    this.expire(now);
    const count = this.s[COUNT];
    if (count > 0 && this.timeAt(count - 1) >= now) {
      // Same ms as the newest entry (or a clock a hair behind another thread's): add to it.
      this.s[RING + 2 * ((this.s[HEAD] + count - 1) % this.ringSize) + 1] += n;
    } else {
      if (count === this.ringSize) {
        if (this.ringSize < this.maxEntries && !(this.s.buffer instanceof SharedArrayBuffer)) this.grow();
        else this.mergeOldest();
      }
      const size = this.s[COUNT];
      const at = RING + 2 * ((this.s[HEAD] + size) % this.ringSize);
      this.s[at] = now;
      this.s[at + 1] = n;
      this.s[COUNT] = size + 1;
    }
    this.s[SUM] += n;
  }
  /** Frees a slot: the oldest entry's amount moves into the next one (a later time: conservative). */
  private mergeOldest() {
    const s = this.s;
    const next = RING + 2 * ((s[HEAD] + 1) % this.ringSize);
    s[next + 1] += this.amountAt(0);
    s[HEAD] = (s[HEAD] + 1) % this.ringSize;
    s[COUNT]--;
  }
  /** Private memory only: shared memory was sized for {@link maxEntries}. */
  private grow() {
    const count = this.s[COUNT];
    const size = Math.min(this.maxEntries, this.ringSize * 2);
    const next = new Float64Array(RING + 2 * size);
    this.copyInto(next, count);
    this.s = next;
  }
  /** Copies the log into `to`, oldest entry first at slot 0. */
  private copyInto(to: Float64Array, count: number) {
    for (let i = 0; i < count; i++) {
      to[RING + 2 * i] = this.timeAt(i);
      to[RING + 2 * i + 1] = this.amountAt(i);
    }
    to[HEAD] = 0;
    to[COUNT] = count;
    to[SUM] = this.s[SUM]!;
  }
  override share(): Float64Array {
    if (!(this.s.buffer instanceof SharedArrayBuffer)) {
      const shared = new Float64Array(new SharedArrayBuffer((RING + 2 * this.maxEntries) * Float64Array.BYTES_PER_ELEMENT));
      this.copyInto(shared, this.s[COUNT]);
      this.s = shared;
    }
    return this.s;
  }
  refund() {}
  available(now: number) {
    this.expire(now);
    return this.capacity - this.s[SUM];
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'sliding-window', available, capacity: this.capacity, window: this.window, utilization: 1 - available / this.capacity };
  }
}

const TAKEN = 0;
const START = 1;

/** Fixed window: a counter reset every window (windows start at the first use, not the wall clock). Up to 2× capacity across a boundary. */
class FixedWindow extends StateCells implements RateAlgorithm {
  // s[TAKEN]: units taken in the current window; s[START]: when it started, ms.
  constructor(private readonly capacity: number, private readonly window: number, now: number, attached?: Float64Array) {
    super(2, attached);
    if (!attached) this.s[START] = now;
  }
  private roll(now: number) {
    const s = this.s;
    if (now - s[START] >= this.window) {
      s[START] += Math.floor((now - s[START]) / this.window) * this.window;
      s[TAKEN] = 0;
    }
  }
  waitFor(now: number, n: number) {
    this.roll(now);
    return this.s[TAKEN] + n <= this.capacity ? 0 : this.s[START] + this.window - now;
  }
  take(now: number, n: number) {
    this.roll(now);
    this.s[TAKEN] += n;
  }
  refund() {}
  available(now: number) {
    this.roll(now);
    return this.capacity - this.s[TAKEN];
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'fixed-window', available, capacity: this.capacity, window: this.window, windowStart: this.s[START], utilization: 1 - available / this.capacity };
  }
}
const TAT = 0;

/**
 * GCRA: the theoretical arrival time (TAT) advances by n·T per request (T = window / capacity);
 * a request fits when TAT − now stays within τ = window. Times are scaled by capacity, so T is an
 * integer. Bursts up to capacity; refunds move TAT back.
 */
class Gcra extends StateCells implements RateAlgorithm {
  // s[TAT]: TAT × capacity.
  constructor(private readonly capacity: number, private readonly window: number, now: number, attached?: Float64Array) {
    super(1, attached);
    if (!attached) this.s[TAT] = now * capacity;
  }
  waitFor(now: number, n: number) {
    const nowS = now * this.capacity;
    const over = Math.max(this.s[TAT], nowS) + n * this.window - nowS - this.window * this.capacity;
    return over <= 0 ? 0 : Math.ceil(over / this.capacity);
  }
  take(now: number, n: number) {
    this.s[TAT] = Math.max(this.s[TAT], now * this.capacity) + n * this.window;
  }
  refund(now: number, n: number) {
    this.s[TAT] = Math.max(now * this.capacity, this.s[TAT] - n * this.window);
  }
  available(now: number) {
    const nowS = now * this.capacity;
    return Math.min(this.capacity, Math.floor((nowS + this.window * this.capacity - Math.max(this.s[TAT], nowS)) / this.window));
  }
  stats(now: number) {
    const available = this.available(now);
    return { algorithm: 'gcra', available, capacity: this.capacity, emissionIntervalMs: this.window / this.capacity, utilization: 1 - available / this.capacity };
  }
}

/**
 * Builds an algorithm; with `shared` (another thread's {@link RateAlgorithm.share} result) it
 * works on that state instead of starting fresh.
 */
export function createAlgorithm(name: RateAlgorithmName, capacity: number, window: number, now: number, shared?: Float64Array): RateAlgorithm {
  switch (name) {
    case 'token-bucket':
      return new TokenBucket(capacity, window, now, shared);
    case 'leaky-bucket':
      return new LeakyBucket(capacity, window, now, shared);
    case 'sliding-window':
      return new SlidingWindow(capacity, window, shared);
    case 'fixed-window':
      return new FixedWindow(capacity, window, now, shared);
    case 'gcra':
      return new Gcra(capacity, window, now, shared);
  }
}
