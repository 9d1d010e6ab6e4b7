/**
 * `this.limits` inside a process worker (and a thread worker whose limits cannot be shared, e.g. a
 * set on an injected clock): every operation is served by the caller's limits through the channel,
 * so all workers of a pool draw on one set and never over-grant. A thread worker of a LimitSet or
 * LimitPool attaches to their shared memory instead (thread-sharing.ts) and comes here only to wait.
 */
import { TimeoutError } from '../../errors.js';
import { Acquisition, type AcquisitionOwner } from '../../limits/acquisition.js';
import { checkAcquireOptions, rejectFailedCheck } from '../../limits/amounts.js';
import { runAcquired, type AcquireOptions, type LimitsLike, type Requested } from '../../limits/limits-like.js';
import { abortError } from '../../limits/waiters.js';
import type { FromWorker, LimitsAcquireReply } from './protocol.js';

type Post = (msg: FromWorker) => void;

/** A request the caller has not answered yet, by what it asked for. */
type Pending =
  | { op: 'acquire'; resolve: (acq: Acquisition) => void; reject: (error: unknown) => void }
  | { op: 'stats'; resolve: (stats: Record<string, unknown>) => void; reject: (error: unknown) => void };

export class WorkerLimitsClient implements LimitsLike {
  private nextRid = 1;
  private readonly pending = new Map<number, Pending>();
  /** Rate keys whose acquisitions must be updated, as the caller's acquisitions so far said. */
  private readonly keysNeedingUpdate = new Set<string>();

  /** Set from the init message: the caller's set's config. */
  config: Record<string, unknown> = {};

  constructor(private readonly post: Post) {}

  /** Acquires from the caller's limits — from its shared set `set` when a thread's own set sends it here. */
  acquire(requested: Requested = {}, acquireOptions?: AcquireOptions, set?: number): Promise<Acquisition> {
    let options: AcquireOptions;
    try {
      options = checkAcquireOptions(acquireOptions);
    } catch (error) {
      return rejectFailedCheck(error);
    }
    const rid = this.nextRid++;
    return new Promise<Acquisition>((resolve, reject) => {
      // The same AbortError as a set in this thread (and as the caller's set, once a wait is aborted).
      if (options.signal?.aborted) return reject(abortError(options.signal));
      this.pending.set(rid, { op: 'acquire', resolve, reject });
      options.signal?.addEventListener('abort', () => this.post({ t: 'limits', rid, op: 'abort' }), { once: true });
      this.post({ t: 'limits', rid, op: 'acquire', requested, timeout: options.timeout, set });
    });
  }

  /**
   * @internal The caller answered request `rid`: with `value` (an acquire's {@link LimitsAcquireReply},
   * or the stats), or with the error it failed with.
   */
  settle(rid: number, ok: boolean, value: unknown): void {
    const request = this.pending.get(rid);
    if (!request) return;
    this.pending.delete(rid);
    if (!ok) request.reject(value);
    // The caller's limits server answers each op with exactly these shapes (see LimitsAcquireReply).
    else if (request.op === 'acquire') request.resolve(this.acquisitionFrom(value as LimitsAcquireReply));
    else request.resolve(value as Record<string, unknown>);
  }

  /**
   * Acquires if everything fits now, else undefined (nothing held). The limits live in the caller,
   * so this answers with a Promise — `await this.limits.tryAcquire(...)` works in every mode.
   */
  tryAcquire(requested: Requested = {}): Promise<Acquisition | undefined> {
    return this.acquire(requested, { timeout: 0 }).catch((error: unknown) => {
      if (error instanceof TimeoutError) return undefined;
      throw error;
    });
  }

  run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R> {
    return runAcquired(this, requested, fn);
  }

  /** The caller's `limits.stats()`, fetched over the channel: a Promise here (`await` it; harmless in other modes). */
  stats(): Promise<Record<string, unknown>> {
    const rid = this.nextRid++;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      this.pending.set(rid, { op: 'stats', resolve, reject });
      this.post({ t: 'limits', rid, op: 'stats' });
    });
  }

  /** Whether `key` must be updated before release, as far as the acquisitions granted so far tell (the set lives in the caller). */
  needsUpdate(key: string): boolean {
    return this.keysNeedingUpdate.has(key);
  }

  /**
   * An acquisition held on the caller's side, driven from here: the one Acquisition class, over an
   * owner that posts the amounts back (so update(), disposal and the missing-update rule behave
   * identically in every mode).
   */
  private acquisitionFrom(reply: LimitsAcquireReply): Acquisition {
    for (const key of reply.needsUpdate) this.keysNeedingUpdate.add(key);
    const owner: AcquisitionOwner = {
      giveBack: (_amounts, used) =>
        this.post({ t: 'limits', rid: 0, op: 'release', acqId: reply.acqId, used: used ? Object.fromEntries(used) : {}, force: true }),
      needsUpdate: (key) => reply.needsUpdate.includes(key),
    };
    return new Acquisition(owner, new Map(reply.amounts), reply.config);
  }
}
