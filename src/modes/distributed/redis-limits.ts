/**
 * Limits shared through Redis. The caller describes its LimitSet / LimitPool (describeLimits); each
 * host serves `this.limits` from Redis with the atomic scripts of lua.ts, so every worker of a
 * handle — on any host — draws on the same counts and never over-grants.
 *
 * Waiting never polls: a waiter sleeps until the moment the script said the head of the queue can
 * fit, or until a release is published on the set's channel, whichever is first (and at least every
 * third of its lease, to renew it). Resource acquisitions are leases renewed by their host; when a
 * host dies they expire and the resources come back.
 */
import { randomUUID } from 'node:crypto';
import { AbortError, ConfigError, TimeoutError } from '../../errors.js';
import { Acquisition } from '../../limits/acquisition.js';
import { LimitPool } from '../../limits/limit-pool.js';
import { AdaptiveLimit } from '../../limits/adaptive.js';
import { LimitSet } from '../../limits/limit-set.js';
import { amountsOf, checkAcquireOptions } from '../../limits/amounts.js';
import { runAcquired, type AcquireOptions, type LimitsLike, type Requested } from '../../limits/limits-like.js';
import type { Limit } from '../../limits/limit.js';
import type { ScriptClient } from './lua.js';
import type { Keys, LimitDescription, LimitSetDescription, LimitsDescription } from './wire.js';

const setIds = new WeakMap<object, string>();

/** A process-wide id for a LimitSet object: handles given the same object share its Redis counts. */
function setIdOf(set: LimitSet): string {
  let id = setIds.get(set);
  if (!id) setIds.set(set, (id = randomUUID()));
  return id;
}

function describeSet(set: LimitSet, identity: object = set): LimitSetDescription {
  let id = setIds.get(identity);
  if (!id) setIds.set(identity, (id = setIdOf(set)));
  return {
    id,
    config: set.config,
    limits: set.limits.map(
      (l): LimitDescription => ({
        kind: l.kind,
        key: l.key,
        capacity: l.capacity,
        window: l.kind === 'resource' ? 0 : l.window,
        algorithm: l.kind === 'resource' ? '' : l.algorithm,
        needsUpdate: l.needsUpdate,
      }),
    ),
  };
}

/** What a host needs to serve the caller's limits; undefined when there are none. */
export function describeLimits(limits: LimitsLike): LimitsDescription | undefined {
  if (limits instanceof LimitPool) {
    return { type: 'pool', sets: limits.sets.map((s: LimitSet) => describeSet(s)), loadBalancing: limits.rotation };
  }
  if (limits instanceof LimitSet) {
    if (limits.limits.length === 0) return undefined;
    return { type: 'set', set: describeSet(limits) };
  }
  return undefined;
}

/**
 * The limits a handle's workers draw on, from the `limits` option: a LimitSet or LimitPool object
 * (shared by every handle given that object), or Limit objects (one set per `init()`, shared by its
 * pool: `identity` is an object the pool's members have in common).
 */
export function describeLimitsOption(option: unknown, identity: object): LimitsDescription | undefined {
  if (option === undefined) return undefined;
  if (option instanceof AdaptiveLimit || (option instanceof LimitPool && option.sets.some((s) => s instanceof AdaptiveLimit))) {
    // Its value lives in the caller's memory; hosts could not reach it (see docs/adaptive.md).
    throw new ConfigError(`Invalid option 'limits': an AdaptiveLimit is not available in distributed mode (its value lives in the caller's process); use it in async, thread or process mode`);
  }
  if (option instanceof LimitSet || option instanceof LimitPool) return describeLimits(option);
  if (Array.isArray(option)) {
    if (option.length === 0) return undefined;
    // LimitSet checks every entry (a ConfigError naming what is not a Limit).
    return { type: 'set', set: describeSet(new LimitSet(option as Limit[]), identity) };
  }
  return undefined;
}

/** Every Redis key a described set can use (for cleanup). */
export function limitSetKeys(keys: Keys, set: LimitSetDescription): string[] {
  const k = keys.limitSet(set.id);
  const out = [k.q, k.qexp, k.h, k.hexp, k.seq];
  set.limits.forEach((_, i) => out.push(k.state(i + 1), k.log(i + 1)));
  return out;
}

/** Host-side plumbing shared by every RedisLimitSet of a host. */
export interface LimitsBackend {
  client: ScriptClient;
  keys: Keys;
  /** Lease of resource holders and waiters, ms. */
  leaseMs: number;
  /** Subscribes `fn` to a set's release channel for good; resolves once the subscription is active. */
  onRelease(channel: string, fn: () => void): Promise<void>;
  /** Called when a script fails in the background (release, renew); a property, as it is passed to catch() as is. */
  onError: (error: unknown) => void;
}

/** A LimitSet whose counts live in Redis. */
export class RedisLimitSet implements LimitsLike {
  private readonly k: ReturnType<Keys['limitSet']>;
  private readonly scriptKeys: string[];
  private readonly byKey = new Map<string, { index: number; limit: LimitDescription }>();
  private readonly warnedUnknown = new Set<string>();
  /** Resource acquisitions held by this host (their leases are renewed). */
  private readonly heldResources = new Set<string>();
  private renewTimer?: NodeJS.Timeout;
  /** Releases published for this set so far, and the waiters sleeping until the next one. */
  private wakeups = 0;
  private sleepers = new Set<() => void>();
  private subscribed?: Promise<void>;

  constructor(
    private readonly backend: LimitsBackend,
    readonly description: LimitSetDescription,
  ) {
    this.k = backend.keys.limitSet(description.id);
    this.scriptKeys = [this.k.q, this.k.qexp, this.k.h, this.k.hexp, this.k.seq];
    description.limits.forEach((limit, i) => {
      this.byKey.set(limit.key, { index: i, limit });
      this.scriptKeys.push(this.k.state(i + 1), this.k.log(i + 1));
    });
  }

  get config(): Record<string, unknown> {
    return { ...this.description.config };
  }

  /** @internal */
  needsUpdate(key: string): boolean {
    return this.byKey.get(key)?.limit.needsUpdate ?? false;
  }

  private amountsFor(requested: Requested): Map<string, number> {
    return amountsOf(requested, this.byKey, this.warnedUnknown);
  }

  private limitArgs(amounts: ReadonlyMap<string, number>, value: (key: string, amount: number) => number): (string | number)[] {
    const out: (string | number)[] = [];
    for (const limit of this.description.limits) {
      const amount = amounts.get(limit.key) ?? 0;
      out.push(limit.kind === 'resource' ? 's' : 'r', limit.algorithm || '-', limit.capacity, limit.window || 1, amount > 0 ? value(limit.key, amount) : 0);
    }
    return out;
  }

  async acquire(requested: Requested = {}, options?: AcquireOptions): Promise<Acquisition> {
    const amounts = this.amountsFor(requested);
    const { timeout, signal } = checkAcquireOptions(options);
    if (signal?.aborted) throw new AbortError('Limit acquisition aborted', { cause: signal.reason });
    const reqId = randomUUID();
    const started = performance.now();
    const args = this.limitArgs(amounts, (_, n) => n);
    const lease = this.backend.leaseMs;
    this.subscribed ??= this.backend.onRelease(this.k.channel, () => {
      this.wakeups++;
      const sleepers = [...this.sleepers];
      this.sleepers.clear();
      for (const wake of sleepers) wake();
    });
    await this.subscribed;
    let enqueued = false;
    const leave = async () => {
      if (enqueued) await this.backend.client.concurryLeave(2, this.k.q, this.k.qexp, reqId, this.k.channel).catch(this.backend.onError);
    };
    for (;;) {
      const seen = this.wakeups;
      const [granted, waitMs] = await this.backend.client.concurryAcquire(
        this.scriptKeys.length,
        ...this.scriptKeys,
        reqId,
        lease * 3,
        lease,
        this.description.limits.length,
        this.k.channel,
        '0',
        ...args,
      );
      if (granted === 1) {
        // The same Acquisition as in-process; only where the amounts go back differs.
        const acq = new Acquisition(
          { giveBack: (held, used) => this.giveBack(reqId, held, used), needsUpdate: (key) => this.needsUpdate(key) },
          amounts,
          this.config,
        );
        if (this.description.limits.some((l) => l.kind === 'resource' && amounts.has(l.key))) this.hold(reqId);
        if (signal?.aborted) {
          acq.release({ force: true });
          throw new AbortError('Limit acquisition aborted', { cause: signal.reason });
        }
        return acq;
      }
      enqueued = true;
      const remaining = timeout === undefined ? Infinity : timeout - (performance.now() - started);
      if (remaining <= 0) {
        await leave();
        throw new TimeoutError(`Limits not acquired within ${timeout} ms`);
      }
      if (this.wakeups !== seen) continue; // something was released while the script ran
      const outcome = await this.sleep(Math.min(Math.max(1, waitMs), remaining, lease), signal);
      if (outcome === 'aborted') {
        await leave();
        throw new AbortError('Limit acquisition aborted', { cause: signal!.reason });
      }
    }
  }

  /** Resolves after `ms`, on a release published for this set, or on abort. */
  private sleep(ms: number, signal?: AbortSignal): Promise<'woken' | 'aborted'> {
    return new Promise((resolve) => {
      const done = (how: 'woken' | 'aborted') => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        signal?.removeEventListener('abort', onAbort);
        resolve(how);
      };
      const wake = () => done('woken');
      const onAbort = () => done('aborted');
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  tryAcquire(): Acquisition | undefined {
    throw new ConfigError('tryAcquire() is not available in distributed workers (the limits live in Redis); use acquire(requested, { timeout: 0 })');
  }

  run<R>(requested: Requested | undefined, fn: (acq: Acquisition) => R | Promise<R>): Promise<R> {
    return runAcquired(this, requested, fn);
  }

  stats(): Record<string, unknown> {
    throw new ConfigError('limits.stats() is not available inside distributed workers: call distributedLimitStats(limits, { connection, prefix }) on the caller');
  }

  /** Gives back acquisition `id`'s `amounts` (refunding unused rate amounts) in the background. */
  private giveBack(id: string, amounts: ReadonlyMap<string, number>, used: ReadonlyMap<string, number> | undefined): void {
    this.heldResources.delete(id);
    const args = this.limitArgs(amounts, (key, n) => {
      const u = used?.get(key);
      return u !== undefined && u < n ? n - u : 0;
    });
    this.backend.client
      .concurryRelease(this.scriptKeys.length, ...this.scriptKeys, id, this.description.limits.length, this.k.channel, ...args)
      .catch(this.backend.onError);
  }

  private hold(id: string): void {
    this.heldResources.add(id);
    if (this.renewTimer) return;
    const every = Math.max(50, Math.floor(this.backend.leaseMs / 3));
    this.renewTimer = setInterval(() => {
      if (this.heldResources.size === 0) {
        clearInterval(this.renewTimer);
        this.renewTimer = undefined;
        return;
      }
      this.backend.client.concurryRenew(2, this.k.h, this.k.hexp, this.backend.leaseMs, ...this.heldResources).catch(this.backend.onError);
    }, every);
    this.renewTimer.unref();
  }

  /** Stops renewing (the host is going away; the leases will expire). */
  dispose(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }
}

/** A LimitPool whose sets live in Redis: round-robin from the worker's index, or random. */
/** Builds a host's `this.limits` from the caller's description. Sets are cached per id. */
export function limitsFromDescription(
  backend: LimitsBackend,
  description: LimitsDescription,
  workerIndex: number,
  cache: Map<string, RedisLimitSet>,
): LimitsLike {
  const setFor = (d: LimitSetDescription) => {
    let s = cache.get(d.id);
    if (!s) cache.set(d.id, (s = new RedisLimitSet(backend, d)));
    return s;
  };
  if (description.type === 'set') return setFor(description.set);
  return new LimitPool(description.sets.map(setFor), { loadBalancing: description.loadBalancing, workerIndex });
}

/** Per-limit counts as Redis holds them: `{ [key]: { kind, algorithm, available, capacity } , waiting }`. */
export async function readLimitStats(client: ScriptClient, keys: Keys, set: LimitSetDescription): Promise<Record<string, unknown>> {
  const k = keys.limitSet(set.id);
  const scriptKeys = [k.q, k.qexp, k.h, k.hexp, k.seq];
  const args: (string | number)[] = [];
  set.limits.forEach((l, i) => {
    scriptKeys.push(k.state(i + 1), k.log(i + 1));
    args.push(l.kind === 'resource' ? 's' : 'r', l.algorithm || '-', l.capacity, l.window || 1);
  });
  const values = await client.concurryLimitStats(scriptKeys.length, ...scriptKeys, set.limits.length, ...args);
  const out: Record<string, unknown> = {};
  set.limits.forEach((l, i) => {
    const available = values[i];
    out[l.key] = {
      kind: l.kind,
      ...(l.kind === 'resource' ? { held: l.capacity - available } : { algorithm: l.algorithm }),
      available,
      capacity: l.capacity,
      utilization: 1 - available / l.capacity,
    };
  });
  out.waiting = values[set.limits.length] ?? 0;
  return out;
}
