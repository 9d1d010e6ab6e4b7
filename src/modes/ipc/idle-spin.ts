import { availableParallelism } from 'node:os';

/**
 * Waiting for the other side's next message by polling for a while before going to sleep.
 *
 * A sleeping thread costs a wake-up when the next message arrives (on virtual machines, the wake of a
 * halted vCPU) and the sender waits in the kernel meanwhile. In a fast conversation that wake-up is
 * most of the round trip, so both ends poll: the worker for its next call, the caller for its reply
 * (docs/decisions/idle-polling.md).
 *
 * The budget adapts so polling only goes on where it pays:
 * - a message found after a short wait (≤ `fastMs`) marks a fast conversation: the budget goes back
 *   to `maxMs`, long enough to ride out a hiccup on the other side (a GC pause) without sleeping;
 * - a message found after a longer wait, or none at all, halves the budget; below 2 µs polling stops;
 * - a message that arrives by the event loop within `fastMs` of going to sleep re-arms polling at
 *   twice that gap. Slower traffic never re-arms it, so a worker with sparse calls does not burn CPU;
 * - a poll that loses its CPU (the clock jumps by `preemptedMs` or more between two reads: the
 *   scheduler ran something else for a time slice) stops and halves the budget. Two such polls
 *   within `backoffMs` mean the machine has more runnable threads than CPUs, where a poller only
 *   takes the CPU from the thread it waits for or from other work: polling pauses for `backoffMs`.
 *   One alone does not pause it: a garbage collector's helper thread preempts a poller now and
 *   then on a quiet machine too.
 */
export interface SpinPolicy {
  /** The longest poll, ms. */
  maxMs: number;
  /** A wait up to this long counts as a fast conversation, ms. */
  fastMs: number;
  /**
   * No polling at all until this many messages have arrived. A new thread's hot code is still being
   * compiled then, by V8 threads that need a CPU of their own (see {@link WARMUP_MESSAGES}).
   */
  warmupMessages: number;
  /**
   * A gap this long between two clock reads of one poll means the thread was preempted, ms. Well
   * above a timer interrupt or a page fault (µs), so a quiet machine never trips it.
   */
  preemptedMs: number;
  /** No polling for this long after a second preemption within this long, ms. */
  backoffMs: number;
}

/**
 * Neither side polls during a worker's first 5000 messages: V8 compiles the hot code of both threads
 * meanwhile, in background threads that two pollers would leave without a CPU on a small machine
 * (docs/decisions/polling-warmup.md).
 */
export const WARMUP_MESSAGES = 5000;
/**
 * Preemption detection for both sides: two lost slices of 0.5 ms or more within 100 ms pause
 * polling for 100 ms. A busy machine then sees at most a couple of polls per 100 ms, and on a
 * machine that quiets down polling resumes within a tenth of a second.
 */
const PREEMPTION = { preemptedMs: 0.5, backoffMs: 100 } as const;
/** The worker polls for its next call: up to 1 ms when calls come back to back. */
export const WORKER_SPIN: SpinPolicy = { maxMs: 1, fastMs: 0.1, warmupMessages: WARMUP_MESSAGES, ...PREEMPTION };
/** The caller polls for a reply in its event loop, so never long: 50 µs. */
export const CALLER_SPIN: SpinPolicy = { maxMs: 0.05, fastMs: 0.05, warmupMessages: WARMUP_MESSAGES, ...PREEMPTION };

const MIN_SPIN_MS = 0.002;

/** Limits how many threads poll at once, so polling never takes the CPU a busy thread needs. */
export interface SpinGate {
  enter(): boolean;
  leave(): void;
}

export class IdleSpin<T> {
  private budgetMs: number;
  /** When this side last went idle (and polling found nothing), or -1 while busy. */
  private idleSince = -1;
  /** Messages still to arrive before polling starts (see {@link SpinPolicy.warmupMessages}). */
  private warmupLeft: number;
  /** No polling before this time: polls were preempted (see {@link SpinPolicy.backoffMs}). */
  private pausedUntil = -Infinity;
  /** When a poll last lost its CPU. */
  private lastPreemption = -Infinity;

  constructor(
    private readonly poll: () => T | undefined,
    private readonly deliver: (message: T) => void,
    private readonly policy: SpinPolicy,
    private readonly gate?: SpinGate,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.budgetMs = policy.maxMs;
    this.warmupLeft = policy.warmupMessages;
  }

  /** Whether idle() would poll now; false during the warm-up and a back-off. */
  get polls(): boolean {
    return this.pollsAt(this.now());
  }

  /**
   * Nothing to do: poll for up to the budget (and not past `notAfter`, a time on this clock);
   * deliver the first message found.
   */
  idle(notAfter = Infinity): void {
    const start = this.now();
    if (this.pollsAt(start) && start < notAfter && (this.gate?.enter() ?? true)) {
      const message = this.pollUntil(Math.min(start + this.budgetMs, notAfter));
      this.gate?.leave();
      if (message !== undefined) {
        const waited = this.now() - start;
        this.budgetMs = waited <= this.policy.fastMs ? this.policy.maxMs : this.halved();
        this.deliver(message);
        return;
      }
      // Nothing came, or the poll lost its CPU (pollUntil then started the back-off).
      this.budgetMs = this.halved();
    }
    this.idleSince = start;
  }

  /** A message arrived the ordinary way (this side was asleep, or busy). */
  arrived(): void {
    this.warmupLeft--;
    if (this.idleSince < 0) return;
    const gap = this.now() - this.idleSince;
    this.idleSince = -1;
    if (gap <= this.policy.fastMs) this.budgetMs = Math.min(this.policy.maxMs, Math.max(MIN_SPIN_MS, gap * 2));
  }

  private pollsAt(now: number): boolean {
    return this.warmupLeft <= 0 && this.budgetMs > 0 && now >= this.pausedUntil;
  }

  /** Polls until a message comes or `until` passes; stops at a preemption (and a second one soon after starts the back-off). */
  private pollUntil(until: number): T | undefined {
    let last = this.now();
    for (;;) {
      const message = this.poll();
      if (message !== undefined) return message;
      const now = this.now();
      if (now - last >= this.policy.preemptedMs) {
        if (now - this.lastPreemption <= this.policy.backoffMs) this.pausedUntil = now + this.policy.backoffMs;
        this.lastPreemption = now;
        return undefined;
      }
      if (now >= until) return undefined;
      last = now;
    }
  }

  private halved(): number {
    return this.budgetMs / 2 < MIN_SPIN_MS ? 0 : this.budgetMs / 2;
  }
}

/**
 * A gate over a counter in shared memory that every worker thread of this process sees: at most
 * `limit` of them poll at once. The caller's own thread is not counted; it polls only while it
 * waits, and it is the one that must not be crowded out while it works.
 */
export function spinGate(counter: Int32Array, limit: number): SpinGate {
  return {
    enter: () => {
      if (Atomics.add(counter, 0, 1) < limit) return true;
      Atomics.sub(counter, 0, 1);
      return false;
    },
    leave: () => void Atomics.sub(counter, 0, 1),
  };
}

/** Worker threads that may poll at once: all CPUs but the caller's. Zero on one CPU. */
export function workerSpinLimit(): number {
  return availableParallelism() - 1;
}

/** The caller polls only when the worker has a CPU of its own; on one CPU it would take it. */
export function callerMaySpin(): boolean {
  return availableParallelism() >= 2;
}

/** The counter behind the worker threads' gate, shared with each thread this process starts. */
export const workerSpinCounter = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
