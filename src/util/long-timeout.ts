/**
 * Timers for user-given durations. Node's `setTimeout` keeps delays in a signed 32-bit int: anything
 * above 2**31-1 ms (~24.8 days), and `Infinity`, silently becomes 1 ms. A user who asks to wait
 * longer than that (`stop({ timeout: Infinity })`) would see the wait end at once. These helpers
 * honour every duration: `Infinity` never fires, longer ones chain timers of at most the maximum.
 */

/** The longest delay Node's `setTimeout` honours, ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer longer than {@link MAX_TIMER_MS} (or never firing): a chain of Node timers. */
class LongTimer {
  private timer?: NodeJS.Timeout;
  private referenced = true;

  constructor(
    private readonly fn: () => void,
    private readonly deadline: number,
  ) {
    this.schedule();
  }

  private schedule(): void {
    // Infinity: nothing to schedule, and nothing that keeps the process alive.
    if (this.deadline === Infinity) return;
    const left = this.deadline - performance.now();
    this.timer = setTimeout(left > MAX_TIMER_MS ? () => this.schedule() : this.fn, Math.min(Math.max(0, left), MAX_TIMER_MS));
    if (!this.referenced) this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  unref(): this {
    this.referenced = false;
    this.timer?.unref();
    return this;
  }

  ref(): this {
    this.referenced = true;
    this.timer?.ref();
    return this;
  }
}

/** What {@link setLongTimeout} returns: a Node timer, or a chain of them. Both have `ref()`/`unref()`. */
export type LongTimeout = NodeJS.Timeout | LongTimer;

/**
 * `setTimeout` for any duration ≥ 0 ms, `Infinity` included (never fires). Durations within Node's
 * limit get a plain Node timer, so short timers cost nothing extra.
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  if (!(ms > MAX_TIMER_MS)) return setTimeout(fn, ms > 0 ? ms : 0);
  return new LongTimer(fn, performance.now() + ms);
}

/** Cancels a timer from {@link setLongTimeout} (`undefined` is ignored). */
export function clearLongTimeout(timer: LongTimeout | undefined): void {
  if (timer instanceof LongTimer) timer.clear();
  else if (timer !== undefined) clearTimeout(timer);
}
