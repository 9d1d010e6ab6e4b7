/**
 * The caller's side of a thread/process worker's `this.limits`: the worker asks over its channel
 * (acquire, abort a waiting acquire, stats, release, pump a shared set) and this serves it from the
 * handle's own limits. What the worker holds or waits for when it dies goes back ({@link workerGone}).
 *
 * A thread worker of a LimitSet / LimitPool acquires in shared memory without asking; it only comes
 * here on its slow path (a wait), naming the shared set by index.
 */
import type { Acquisition } from '../../limits/acquisition.js';
import type { LimitsLike } from '../../limits/limits-like.js';
import { shareWithThread, type SharedWithThread, type ThreadLimitsState } from '../../limits/thread-sharing.js';
import { observedLike, underlyingLimits } from '../../limits/limit-events.js';
import { encodeError } from '../../serialize/errors.js';
import type { FromWorker, LimitsAcquireReply, ToWorker } from './protocol.js';

/** A limits request from the worker. */
export type LimitsRequest = Extract<FromWorker, { t: 'limits' }>;

/** The caller side of a thread/process worker's `this.limits`: serves its acquires, holds what it was granted, gives it all back when the worker exits. */
export class LimitsServer {
  /** Acquisitions the worker holds, by the id it releases them with. */
  private readonly held = new Map<number, Acquisition>();
  /** Acquires still waiting, by the worker's request id (so it can abort them). */
  private readonly acquiring = new Map<number, AbortController>();
  private nextAcqId = 1;
  private gone = false;
  /** A thread worker's view of the caller's LimitSet / LimitPool in shared memory. */
  private readonly shared?: SharedWithThread;
  /** The shared sets as a thread's slow path reaches them (reporting waits like the handle's limits). */
  private readonly sharedTargets: LimitsLike[] = [];

  /**
   * @param limits the handle's limits.
   * @param sharedWithThread a thread worker: share `limits` in memory when they can be (worker `workerIndex`).
   * @param reply posts an answer to the worker.
   */
  constructor(
    private readonly limits: LimitsLike,
    sharedWithThread: { workerIndex: number } | undefined,
    private readonly reply: (msg: ToWorker) => void,
  ) {
    if (sharedWithThread) {
      this.shared = shareWithThread(underlyingLimits(limits), sharedWithThread.workerIndex);
      this.sharedTargets = this.shared?.sets.map((set) => observedLike(limits, set)) ?? [];
    }
  }

  /** What the init message hands a thread worker: the shared memory of the limits, if shared. */
  get sharedState(): ThreadLimitsState | undefined {
    return this.shared?.state;
  }

  serve(msg: LimitsRequest): void {
    switch (msg.op) {
      case 'acquire':
        return this.acquire(msg);
      case 'abort':
        this.acquiring.get(msg.rid)?.abort();
        return;
      case 'pump':
        this.shared?.sets[msg.set]?.wake();
        return;
      case 'stats':
        return this.stats(msg.rid);
      case 'release':
        return this.release(msg.acqId, msg.used);
    }
  }

  /**
   * The worker is gone: whatever it held or was waiting for goes back, including its holdings in
   * shared memory (thread `threadId`).
   */
  workerGone(threadId: number | undefined): void {
    this.gone = true;
    for (const c of this.acquiring.values()) c.abort();
    this.acquiring.clear();
    for (const acq of this.held.values()) acq.release({ force: true });
    this.held.clear();
    const shared = this.shared;
    if (shared && threadId !== undefined) shared.sets.forEach((set, i) => set.threadGone(shared.state.sets[i].holdings, threadId));
  }

  private acquire(msg: Extract<LimitsRequest, { op: 'acquire' }>): void {
    const controller = new AbortController();
    this.acquiring.set(msg.rid, controller);
    const target = msg.set === undefined ? this.limits : this.sharedTargets[msg.set];
    target.acquire(msg.requested, { timeout: msg.timeout, signal: controller.signal }).then(
      (acq) => {
        this.acquiring.delete(msg.rid);
        if (this.gone) return acq.release({ force: true });
        const acqId = this.nextAcqId++;
        this.held.set(acqId, acq);
        const needsUpdate = [...acq.amounts.keys()].filter((k) => target.needsUpdate(k));
        const value: LimitsAcquireReply = { acqId, amounts: [...acq.amounts], config: acq.config, needsUpdate };
        this.reply({ t: 'limits-reply', rid: msg.rid, ok: true, value });
      },
      (error: unknown) => {
        this.acquiring.delete(msg.rid);
        if (!this.gone) this.reply({ t: 'limits-reply', rid: msg.rid, ok: false, value: encodeError(error) });
      },
    );
  }

  private stats(rid: number): void {
    let answer: { ok: boolean; value: unknown };
    try {
      answer = { ok: true, value: this.limits.stats() };
    } catch (error) {
      answer = { ok: false, value: encodeError(error) };
    }
    this.reply({ t: 'limits-reply', rid, ...answer });
  }

  private release(acqId: number, used: Record<string, number>): void {
    const acq = this.held.get(acqId);
    this.held.delete(acqId);
    if (!acq) return;
    try {
      if (Object.keys(used).length) acq.update(used);
    } catch {
      /* usage is checked on the worker side */
    }
    acq.release({ force: true });
  }
}
