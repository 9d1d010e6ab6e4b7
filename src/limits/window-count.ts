/** A count of recent events, for AdaptiveLimit's rate: how many happened in the last window. */

/** How many events of the last `window` ms: a queue of their times. */
export class WindowCount {
  private times: number[] = [];
  private head = 0;

  constructor(private readonly window: number) {}

  add(t: number): void {
    this.times.push(t);
    this.count(t);
  }

  count(now: number): number {
    while (this.head < this.times.length && this.times[this.head] <= now - this.window) this.head++;
    // Compact now and then, so the queue holds about one window.
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }
}
