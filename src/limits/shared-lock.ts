/**
 * The lock of a LimitSet shared with worker threads, and the count of requests waiting at its
 * owner: two Int32 words of shared memory, `[lock, waiters]`. Every touch of a shared set's counters
 * happens under this lock; critical sections are a few arithmetic operations, so it spins.
 */
import { threadId } from 'node:worker_threads';

const LOCK = 0;
const WAITERS = 1;
/** Lock word of a thread: never 0 (free). */
const LOCKED_BY_THIS_THREAD = threadId + 1;
/** Longer than any live holder keeps the lock (a few arithmetic operations, or a GC pause). */
const STUCK_LOCK_MS = 1000;

export class SharedLock {
  /** `words`: the shared `[lock, waiters]` pair (from {@link SharedLock.create} in the owning thread). */
  constructor(readonly words: Int32Array) {}

  /** A fresh, free lock on new shared memory, with `waiters` already waiting at the owner. */
  static create(waiters: number): SharedLock {
    const lock = new SharedLock(new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)));
    lock.words[WAITERS] = waiters;
    return lock;
  }

  /** Takes the lock. The lock word names the holder's thread, so a holder that dies can be detected. */
  lock(): void {
    if (Atomics.compareExchange(this.words, LOCK, 0, LOCKED_BY_THIS_THREAD) !== 0) lockContended(this.words);
  }

  unlock(): void {
    Atomics.store(this.words, LOCK, 0);
  }

  /** Frees the lock if thread `deadThreadId` (gone) died holding it. */
  freeIfHeldBy(deadThreadId: number): void {
    Atomics.compareExchange(this.words, LOCK, deadThreadId + 1, 0);
  }

  /** Requests waiting at the owning set, as it last published. */
  get waiters(): number {
    return Atomics.load(this.words, WAITERS);
  }

  /** The owner publishes its queue length to attached threads (under the lock). */
  set waiters(count: number) {
    Atomics.store(this.words, WAITERS, count);
  }
}

/**
 * Spins until the lock is free. A thread terminated inside the critical section never frees it;
 * its exit event frees it (LimitSet.threadGone), but this thread may be the one that must process
 * that event — so a lock held by the same thread for {@link STUCK_LOCK_MS} is taken over.
 */
function lockContended(words: Int32Array): void {
  let holder = 0;
  let heldSince = 0;
  for (let spins = 1; ; spins++) {
    const seen = Atomics.compareExchange(words, LOCK, 0, LOCKED_BY_THIS_THREAD);
    if (seen === 0) return;
    if (spins % 1024 !== 0) continue;
    const now = performance.now();
    if (seen !== holder) {
      holder = seen;
      heldSince = now;
    } else if (now - heldSince > STUCK_LOCK_MS && Atomics.compareExchange(words, LOCK, seen, LOCKED_BY_THIS_THREAD) === seen) {
      process.emitWarning(`A shared LimitSet's lock was held by thread ${seen - 1} for over ${STUCK_LOCK_MS} ms; taken over (that thread died holding it)`, {
        code: 'CONCURRY_LIMIT_LOCK_TAKEN_OVER',
      });
      return;
    }
  }
}
