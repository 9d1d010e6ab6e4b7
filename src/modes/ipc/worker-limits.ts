/**
 * `this.limits` inside a process worker (and a thread worker whose limits cannot be shared, e.g. a
 * set on an injected clock): every operation is served by the caller's limits through the channel,
 * so all workers of a pool draw on one set and never over-grant. A thread worker of a LimitSet or
 * LimitPool attaches to their shared memory instead (thread-sharing.ts) and comes here only to wait.
 */
import { TimeoutError } from '../../errors.js';
import { Acquisition, type AcquisitionOwner } from '../../limits/acquisition.js';
import { checkAcquireOptions, runAcquired, type AcquireOptions, type LimitsLike, type Requested } from '../../limits/limit-set.js';
import type { FromWorker, LimitsAcquireReply } from './protocol.js';

type Post = (msg: FromWorker) => void;

/**
 * An acquisition held on the caller's side, driven from here: the same Acquisition class as
 * in-process sets, over an owner that posts the release (so update(), disposal and the
 * missing-update rule behave identically in every mode).
 */
function remoteAcquisition(post: Post, reply: LimitsAcquireReply): Acquisition {
  const owner: AcquisitionOwner = {
    giveBack: (_amounts, used) =>
      post({ t: 'limits', rid: 0, op: 'release', acqId: reply.acqId, used: used ? Object.fromEntries(used) : {}, force: true }),
    needsUpdate: (key) => reply.needsUpdate.includes(key),
  };
  return new Acquisition(owner, new Map(reply.amounts), reply.config);
}

export class WorkerLimitsClient implements LimitsLike {
  private nextRid = 1;
  /** Requests the caller has not answered yet; `acquire` marks those answered with an acquisition. */
  private readonly waiting = new Map<number, { resolve: (a: any) => void; reject: (e: unknown) => void; acquire?: boolean }>();

  /** Set from the init message: the caller's set's config. */
  config: Record<string, unknown> = {};

  constructor(private readonly post: Post) {}

  /** Acquires from the caller's limits — from its shared set `set` when a thread's own set sends it here. */
  acquire(requested: Requested = {}, acquireOptions?: AcquireOptions, set?: number): Promise<Acquisition> {
    let options: AcquireOptions;
    try {
      options = checkAcquireOptions(acquireOptions);
    } catch (error) {
      return Promise.reject(error);
    }
    const rid = this.nextRid++;
    return new Promise<Acquisition>((resolve, reject) => {
      if (options.signal?.aborted) return reject(options.signal.reason);
      this.waiting.set(rid, { resolve, reject, acquire: true });
      options.signal?.addEventListener('abort', () => this.post({ t: 'limits', rid, op: 'abort' }), { once: true });
      this.post({ t: 'limits', rid, op: 'acquire', requested, timeout: options.timeout, set });
    });
  }

  /** @internal the caller answered an acquire. */
  settle(rid: number, ok: boolean, value: unknown): void {
    const w = this.waiting.get(rid);
    if (!w) return;
    this.waiting.delete(rid);
    if (!ok) w.reject(value);
    else w.resolve(w.acquire ? remoteAcquisition(this.post, value as LimitsAcquireReply) : value);
  }

  /**
   * Acquires if everything fits now, else undefined (nothing held). The limits live in the caller,
   * so this answers with a Promise — `await this.limits.tryAcquire(...)` works in every mode.
   */
  tryAcquire(requested: Requested = {}): Acquisition | undefined {
    const answer = this.acquire(requested, { timeout: 0 }).catch((error: unknown) => {
      if (error instanceof TimeoutError) return undefined;
      throw error;
    });
    return answer as unknown as Acquisition | undefined;
  }

  run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R> {
    return runAcquired(this, requested, fn);
  }

  /** The caller's `limits.stats()`, fetched over the channel: a Promise here (`await` it; harmless in other modes). */
  stats(): Record<string, unknown> {
    const rid = this.nextRid++;
    return new Promise<unknown>((resolve, reject) => {
      this.waiting.set(rid, { resolve, reject });
      this.post({ t: 'limits', rid, op: 'stats' });
    }) as unknown as Record<string, unknown>;
  }
}

