/**
 * Deadlines for many calls on one timer. A timer per call costs more than a whole call on the
 * async path, and calls with the same delay expire in the order they were added, so each delay
 * gets a FIFO lane and one clock timer is armed for the earliest head. Settled items are dropped
 * lazily from the lane fronts. When nothing is live the timer stays armed but unref'd (cheaper
 * than clearing and re-creating it call after call), so an idle handle never keeps the process
 * alive; it is ref'd again as soon as a deadline is live.
 */
import type { Clock, TimerHandle } from '../clock.js';

interface Entry<T> {
  at: number;
  item: T;
}

class Lane<T> {
  entries: Entry<T>[] = [];
  head = 0;

  get front(): Entry<T> | undefined {
    return this.entries[this.head];
  }

  shift(): void {
    this.entries[this.head++] = undefined as never;
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}

export class DeadlineQueue<T> {
  private readonly lanes = new Map<number, Lane<T>>();
  /** The armed timer; undefined while none is (TimerHandle is `unknown`, so it already admits undefined). */
  private timer: TimerHandle;
  private armedAt = Infinity;
  private live = 0;

  constructor(
    private readonly clock: Clock,
    private readonly isDone: (item: T) => boolean,
    private readonly onExpire: (item: T) => void,
  ) {}

  /** Calls `onExpire(item)` after `delayMs` unless `isDone(item)` by then. Pair with {@link settled}. */
  add(delayMs: number, item: T): void {
    let lane = this.lanes.get(delayMs);
    if (!lane) this.lanes.set(delayMs, (lane = new Lane()));
    this.dropDone(lane);
    const at = this.clock.now() + delayMs;
    lane.entries.push({ at, item });
    if (this.live++ === 0) setRef(this.timer, true);
    if (at < this.armedAt) this.arm(at);
  }

  /** An added item settled (whether or not it expired). */
  settled(): void {
    if (--this.live > 0) return;
    this.live = 0;
    setRef(this.timer, false);
  }

  /** Clears the timer and forgets every item. */
  dispose(): void {
    this.live = 0;
    this.disarm();
    this.lanes.clear();
  }

  private dropDone(lane: Lane<T>): void {
    let front: Entry<T> | undefined;
    while ((front = lane.front) && this.isDone(front.item)) lane.shift();
  }

  private arm(at: number): void {
    this.disarm();
    this.armedAt = at;
    this.timer = this.clock.setTimeout(this.fire, Math.max(0, at - this.clock.now()));
    if (this.live === 0) setRef(this.timer, false);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    const expired: T[] = [];
    let next = Infinity;
    for (const lane of this.lanes.values()) {
      let front: Entry<T> | undefined;
      while ((front = lane.front) && (front.at <= now || this.isDone(front.item))) {
        if (!this.isDone(front.item)) expired.push(front.item);
        lane.shift();
      }
      if (front && front.at < next) next = front.at;
    }
    if (next < Infinity) this.arm(next);
    for (const item of expired) this.onExpire(item);
  };
}

/** Node timers can be unref'd; other clocks' handles (a FakeClock's ids) have nothing to toggle. */
function setRef(timer: TimerHandle, ref: boolean): void {
  const t = timer as { ref?: () => void; unref?: () => void } | undefined;
  if (ref) t?.ref?.();
  else t?.unref?.();
}
