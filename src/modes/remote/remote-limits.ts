/**
 * `this.limits` inside a process worker (and a thread worker whose limits cannot be shared, e.g. a
 * set on an injected clock): every operation is served by the caller's limits through the channel,
 * so all workers of a pool draw on one set and never over-grant. A thread worker of a LimitSet or
 * LimitPool attaches to their shared memory instead (thread-sharing.ts) and comes here only to wait.
 */
import { ConfigError } from '../../errors.js';
import { LimitUsageError, type ReleaseOptions } from '../../limits/acquisition.js';
import { checkAcquireOptions, runAcquired, type AcquireOptions, type LimitsLike, type Requested } from '../../limits/limit-set.js';
import type { Acquisition } from '../../limits/acquisition.js';
import type { FromWorker, RemoteAcquireReply } from './protocol.js';

type Post = (msg: FromWorker) => void;

/** An acquisition held on the caller's side, driven from here. */
class RemoteAcquisition {
  private readonly used = new Map<string, number>();
  private isReleased = false;
  readonly amounts: ReadonlyMap<string, number>;
  readonly config: Record<string, unknown>;

  constructor(private readonly post: Post, private readonly reply: RemoteAcquireReply) {
    this.amounts = new Map(reply.amounts);
    this.config = reply.config;
  }

  get released(): boolean {
    return this.isReleased;
  }

  get requested(): Record<string, number> {
    return Object.fromEntries(this.amounts);
  }

  update(usage: Record<string, number>): this {
    if (this.isReleased) throw new LimitUsageError('Cannot update an acquisition that was already released');
    for (const [k, v] of Object.entries(usage)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`update(): usage for '${k}' must be a number >= 0, got ${String(v)}`);
      this.used.set(k, v);
    }
    return this;
  }

  release(options: ReleaseOptions = {}): void {
    if (this.isReleased) return;
    this.isReleased = true;
    this.post({ t: 'limits', rid: 0, op: 'release', acqId: this.reply.acqId, used: Object.fromEntries(this.used), force: true });
    const missing = this.reply.needsUpdate.filter((k) => !this.used.has(k));
    if (missing.length > 0 && !options.force) {
      throw new LimitUsageError(
        `Acquisition released without update() for rate limit(s): ${missing.join(', ')} — call acq.update({ ${missing.map((k) => `${k}: used`).join(', ')} }) before releasing (everything was released anyway)`,
      );
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}

export class RemoteLimits implements LimitsLike {
  private nextRid = 1;
  private readonly waiting = new Map<number, { resolve: (a: Acquisition) => void; reject: (e: unknown) => void }>();

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
      this.waiting.set(rid, { resolve, reject });
      options.signal?.addEventListener('abort', () => this.post({ t: 'limits', rid, op: 'abort' }), { once: true });
      this.post({ t: 'limits', rid, op: 'acquire', requested, timeout: options.timeout, set });
    });
  }

  /** @internal the caller answered an acquire. */
  settle(rid: number, ok: boolean, value: unknown): void {
    const w = this.waiting.get(rid);
    if (!w) return;
    this.waiting.delete(rid);
    if (ok) w.resolve(new RemoteAcquisition(this.post, value as RemoteAcquireReply) as unknown as Acquisition);
    else w.reject(value);
  }

  tryAcquire(): Acquisition | undefined {
    throw new ConfigError(
      'tryAcquire() is not available in process workers (the limits live in the caller); use acquire(requested, { timeout: 0 })',
    );
  }

  run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R> {
    return runAcquired(this, requested, fn);
  }

  stats(): Record<string, unknown> {
    throw new ConfigError(
      "limits.stats() is read on the caller's side in process workers: use the object you passed in",
    );
  }
}
