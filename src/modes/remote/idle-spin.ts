/**
 * Waiting for the next call by polling for a few microseconds before going to sleep.
 *
 * A sleeping thread costs a wake-up when the next call arrives; on virtual machines that is a
 * wake of a halted vCPU, tens of microseconds (measured on the 2-vCPU CI machine: a sequential
 * round trip of ~75 µs without polling, ~23 µs with it; see docs/modes.md). A worker that just
 * answered is likely to get its next call soon, so it polls its port for a while first. The budget
 * adapts: it halves each time polling finds nothing, and is set from the observed gap when a call
 * arrives shortly after the worker went to sleep, so a worker with sparse traffic stops polling.
 */
export const MAX_SPIN_MS = 0.1;
const MIN_SPIN_MS = 0.002;

export class IdleSpin<T> {
  private budgetMs = MAX_SPIN_MS;
  /** When the worker last went idle (and polling found nothing), or -1 while busy. */
  private idleSince = -1;

  constructor(
    private readonly poll: () => T | undefined,
    private readonly deliver: (message: T) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The worker has nothing to do: poll for up to the budget; deliver the first message found. */
  idle(): void {
    const start = this.now();
    if (this.budgetMs > 0) {
      const until = start + this.budgetMs;
      do {
        const message = this.poll();
        if (message !== undefined) {
          this.deliver(message);
          return;
        }
      } while (this.now() < until);
      this.budgetMs = this.budgetMs / 2 < MIN_SPIN_MS ? 0 : this.budgetMs / 2;
    }
    this.idleSince = start;
  }

  /** A message arrived the ordinary way (the worker was asleep, or busy). */
  arrived(): void {
    if (this.idleSince < 0) return;
    const gap = this.now() - this.idleSince;
    this.idleSince = -1;
    if (gap <= MAX_SPIN_MS) this.budgetMs = Math.min(MAX_SPIN_MS, Math.max(MIN_SPIN_MS, gap * 2));
  }
}
