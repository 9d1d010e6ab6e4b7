/**
 * The caller's side of a distributed worker instance.
 *
 * An instance is *placed* by adding a job to a BullMQ control queue — the queue of the least
 * loaded live host serving the class, or the class's shared queue when none is up. The host that
 * claims it builds the instance in a WorkerRuntime and consumes the instance's own BullMQ queue, so
 * the instance lives on one host and runs its calls in order there. The calls of one tick travel as
 * one job, numbered: the host fetches several jobs at once and runs them by number. Results, events
 * and lifecycle messages come back on this process's reply list.
 *
 * The transport keeps every call until its result arrives. When the host's lease expires (it was
 * killed), it said it is exiting, or Redis lost the instance (restarted without persistence), the
 * instance is placed again — its constructor runs again on another host — and the calls without
 * result are re-sent (delivery 'at-least-once', the default) or, when they may have reached the
 * host, rejected with WorkerCrashedError (delivery 'at-most-once'; calls still waiting in Redis
 * are re-sent, they never ran).
 */
import { CancelledError, WorkerCrashedError, WorkerInitError } from '../../errors.js';
import { decodeError } from '../../serialize/errors.js';
import type { Settler, Transport, TransportCall, TransportInit } from '../transport.js';
import { CallerClient, type ClientTransport, type HostWatcher } from './caller.js';
import { connectionFromEnv, within } from './connection.js';
import { describeLimitsOption, limitSetKeys } from './redis-limits.js';
import { encodeRuntimeOptions } from './security.js';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../../util/long-timeout.js';
import { Placement, STOP_GRACE_MS } from './placement.js';
import { pack, type HostMessage, type PlacementPayload, type WireCall } from './wire.js';

// Defined in options.ts so that the main entry's types never name bullmq.
import type { Delivery } from './options.js';
export type { Delivery } from './options.js';

const budgetIds = new WeakMap<object, string>();

interface PendingCall {
  id: number;
  method: string;
  args: unknown[];
  settler: Settler;
  /** The placement the call was last sent to (undefined while in the outbox). */
  placement?: Placement;
}

export class DistributedTransport implements Transport, ClientTransport {
  private readonly client: CallerClient;
  private readonly className: string;
  private readonly delivery: Delivery;
  private readonly payload: string;
  private readonly keyGroups: { id: string; keys: string[] }[] = [];
  private readonly pending = new Map<number, PendingCall>();
  private outbox: PendingCall[] = [];
  private placement?: Placement;
  /** Adds in flight (jobs are numbered, so several may be). */
  private readonly adding = new Set<Promise<void>>();
  private flushScheduled = false;
  private recovering = false;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: unknown) => void;
  private isReady = false;
  private initError?: unknown;
  private stopping = false;
  private stopped = false;
  private busy = false;
  private watchedHost?: string;
  private stopWaiter?: () => void;
  private readonly setup: Promise<void>;
  private recovery?: Promise<void>;
  /** Placements being removed in the background; stop() waits for them before closing the client. */
  private readonly drops = new Set<Promise<void>>();

  constructor(private readonly init: TransportInit) {
    const o = init.options;
    this.className = init.workerClass.name;
    this.delivery = (o.delivery) ?? 'at-least-once';
    // The handle may wrap its limits (events); the option says what they are.
    const limits = describeLimitsOption(o.limits, init.limits);
    const retryBudget = (init.runtimeOptions.retry)?.retryBudget;
    let budget: PlacementPayload['budget'];
    if (init.budget && retryBudget) {
      let id = budgetIds.get(init.budget);
      if (!id) budgetIds.set(init.budget, (id = crypto.randomUUID()));
      budget = { id, ratio: retryBudget.ratio, minPerSecond: retryBudget.minPerSecond ?? 10 };
    }
    // Encoded up front: arguments or options that cannot travel fail init() at once.
    const payload: PlacementPayload = {
      ctorArgs: init.ctorArgs,
      runtimeOptions: encodeRuntimeOptions(init.workerClass, init.runtimeOptions),
      workerIndex: init.workerIndex,
      limits,
      budget,
    };
    try {
      this.payload = pack(payload).toString('base64');
    } catch (error) {
      throw new TypeError(`The constructor arguments of ${this.className} cannot be sent to a distributed host: ${(error as Error).message}`, { cause: error });
    }
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => {});
    const prefix = (o.prefix) ?? 'concurry';
    this.client = CallerClient.attach(connectionFromEnv(o.connection), prefix, this);
    if (limits) {
      const sets = limits.type === 'set' ? [limits.set] : limits.sets;
      for (const s of sets) this.keyGroups.push({ id: `lim:${s.id}`, keys: limitSetKeys(this.client.keys, s) });
    }
    if (budget) this.keyGroups.push({ id: `budget:${budget.id}`, keys: [this.client.keys.budget(budget.id)] });
    for (const g of this.keyGroups) this.client.retainKeys(g.id, g.keys);
    this.updateBusy();
    this.setup = this.start();
    this.setup.catch((error) => this.failInit(error));
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  send(call: TransportCall, settler: Settler): void {
    if (this.initError) return settler.reject(this.initError);
    if (this.stopping) return settler.reject(new CancelledError('Worker stopped before the call was sent'));
    const p: PendingCall = { id: call.id, method: call.method, args: call.args, settler };
    this.pending.set(call.id, p);
    this.outbox.push(p);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.scheduledFlush);
    }
    if (!this.busy) this.updateBusy();
  }

  cancel(call: TransportCall): boolean {
    const id = call.id;
    const p = this.pending.get(id);
    if (!p) return false;
    const i = this.outbox.indexOf(p);
    if (i >= 0) {
      this.outbox.splice(i, 1);
      this.pending.delete(id);
      this.updateBusy();
      return true;
    }
    if (p.placement) {
      void this.client.cmd.publish(this.client.keys.bus, JSON.stringify({ t: 'cancel', i: p.placement.id, c: id })).catch(() => {});
    }
    return false;
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.updateBusy();
    this.outbox = [];
    // Nothing here may hang when Redis is unreachable: every step is bounded.
    await within(this.setup, 2 * STOP_GRACE_MS);
    if (this.client.connected) await within(Promise.all([this.recovery, ...this.adding]), STOP_GRACE_MS);
    const p = this.placement;
    if (p && !p.gone && !this.client.connected) {
      // Redis is unreachable: nothing can be removed now (the host notices this caller is gone).
      p.gone = true;
      this.client.unroute(p.id);
    } else if (p && !p.gone) {
      const host = await within(this.client.cmd.concurryUnregister(1, this.client.keys.instance(p.id)), STOP_GRACE_MS);
      if (host) {
        const stopped = new Promise<void>((resolve) => (this.stopWaiter = resolve));
        const onGone: HostWatcher = { hostGone: () => this.stopWaiter?.(), wantsWatch: () => !this.stopped };
        this.client.watchHost(host, onGone);
        await within(this.client.cmd.publish(this.client.keys.bus, JSON.stringify({ t: 'stop', i: p.id, timeout: jsonDuration(timeoutMs) })), STOP_GRACE_MS);
        let timer: LongTimeout | undefined;
        await Promise.race([stopped, new Promise<void>((r) => (timer = setLongTimeout(r, timeoutMs + STOP_GRACE_MS)))]);
        clearLongTimeout(timer);
        this.client.unwatchHost(host, onGone);
      }
      await this.dropPlacement(p);
    }
    if (this.client.connected) await within(Promise.all(this.drops), 4 * STOP_GRACE_MS);
    this.unwatch();
    this.stopped = true;
    for (const g of this.keyGroups) await this.client.releaseKeys(g.id);
    await this.client.detach(this);
  }

  // ── placement (placement.ts) ─────────────────────────────────────────────

  private async start(): Promise<void> {
    await this.client.ready;
    if (this.stopping) return;
    await this.place();
    this.flush();
  }

  private async place(): Promise<void> {
    const p = await Placement.place(this.client, this.className, this.payload, this, (placed) => (this.placement = placed));
    // stop() gave up waiting for this placement (Redis was slow): remove it now.
    if (this.stopped) return void this.dropPlacement(p);
    this.updateWatch();
  }

  /** Removes a placement's keys (its control job, its call queue, its registry entry) in the background. */
  private dropLater(p: Placement): void {
    const drop = this.dropPlacement(p);
    this.drops.add(drop);
    void drop.finally(() => this.drops.delete(drop));
  }

  private dropPlacement(p: Placement): Promise<void> {
    return p.drop(this.client);
  }

  // ── calls ────────────────────────────────────────────────────────────────

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Sends the outbox as one job; one add in flight at a time keeps jobs in call order. */
  private flush(): void {
    const p = this.placement;
    if (!p || this.recovering || this.outbox.length === 0 || this.stopping || p.gone) return;
    let batch = this.outbox;
    this.outbox = [];
    let encoded: Buffer;
    try {
      encoded = pack(batch.map((c): WireCall => [c.id, c.method, c.args]));
    } catch {
      // Something can't be encoded: send call by call so only the bad ones fail.
      const good: PendingCall[] = [];
      for (const c of batch) {
        try {
          pack([c.id, c.method, c.args]);
          good.push(c);
        } catch (error) {
          this.settle(c.id, false, uncodableArgument(this.className, c, error as Error));
        }
      }
      batch = good;
      if (batch.length === 0) return;
      encoded = pack(batch.map((c): WireCall => [c.id, c.method, c.args]));
    }
    for (const c of batch) c.placement = p;
    const adding: Promise<void> = p.send(encoded, batch.map((c) => c.id)).catch(
      (error: unknown) => {
        // The host waits for every number in turn: without this job the placement is stuck. Its
        // calls fail with the error (they never ran); the others move to a new placement.
        for (const c of batch) if (this.pending.get(c.id) === c && c.placement === p) this.settle(c.id, false, error);
        this.recovery ??= this.recover(p, 'redis').finally(() => (this.recovery = undefined));
      },
    );
    this.adding.add(adding);
    void adding.finally(() => this.adding.delete(adding));
  }

  private settle(id: number, ok: boolean, value: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (ok) p.settler.resolve(value);
    else p.settler.reject(value);
    if (this.pending.size === 0) this.updateBusy();
  }

  // ── messages from the client ─────────────────────────────────────────────

  onClaimed(instanceId: string, hostId: string): void {
    const p = this.placement;
    if (!p || p.id !== instanceId) return;
    if (p.hostId !== hostId) {
      this.unwatch();
      p.hostId = hostId;
      this.updateWatch();
    }
  }

  onMessage(msg: HostMessage): void {
    switch (msg.t) {
      case 'r':
        for (const [id, ok, value] of msg.b) this.settle(id, ok, ok ? value : decodeError(value));
        break;
      case 'e':
        this.init.onEvent(msg.ev);
        break;
      case 'ready':
        if (msg.i !== this.placement?.id) break;
        if (this.placement.hostId) this.client.placementSettled(this.placement.hostId, msg.i);
        if (!this.isReady) {
          this.isReady = true;
          this.resolveReady();
          this.updateBusy();
        }
        break;
      case 'init-error':
        if (msg.i !== this.placement?.id) break;
        this.failInit(decodeError(msg.e));
        break;
      case 'stopped':
        if (msg.i === this.placement?.id) this.stopWaiter?.();
        break;
    }
  }

  onHostGone(hostId: string): void {
    const p = this.placement;
    if (!p || p.hostId !== hostId || this.stopping) return;
    this.recovery ??= this.recover(p, 'host').finally(() => (this.recovery = undefined));
  }

  /** After a reconnect: an instance whose registry entry vanished was lost with Redis's data. */
  revalidate(): void {
    const p = this.placement;
    if (!p || this.stopping || this.recovering || this.initError) return;
    this.client.cmd.exists(this.client.keys.instance(p.id)).then(
      (n) => {
        if (n === 0 && this.placement === p) this.recovery ??= this.recover(p, 'redis').finally(() => (this.recovery = undefined));
      },
      () => {},
    );
  }

  // ── failures ─────────────────────────────────────────────────────────────

  private failInit(error: unknown): void {
    if (this.initError || this.stopping) return;
    this.initError =
      error instanceof WorkerInitError ? error : new WorkerInitError(`${this.className} could not be placed on a distributed host: ${(error as Error)?.message ?? error}`, { cause: error });
    this.rejectReady(this.initError);
    this.outbox = [];
    for (const id of [...this.pending.keys()]) this.settle(id, false, this.initError);
    this.unwatch();
    this.updateBusy();
    const p = this.placement;
    if (p && !p.gone) this.dropLater(p);
  }

  /**
   * The instance is lost (its host died or left, or Redis lost it): place it again and re-send the
   * calls without result — or, at-most-once, reject those that may have reached the host.
   */
  private async recover(old: Placement, why: 'host' | 'redis'): Promise<void> {
    if (this.recovering || this.stopping || this.initError || old.gone) return;
    this.recovering = true;
    this.unwatch();
    try {
      await Promise.all(this.adding);
      const waiting = this.delivery === 'at-most-once' ? await old.waitingCalls() : new Set<number>();
      const what =
        why === 'host'
          ? `The host running ${this.className} (${old.hostId ?? 'unknown'}) died or left`
          : `Redis lost the state of ${this.className} (it restarted without persistence?)`;
      const resend: PendingCall[] = [];
      for (const c of [...this.pending.values()]) {
        if (c.placement !== old) continue;
        if (this.delivery === 'at-least-once' || waiting.has(c.id)) {
          c.placement = undefined;
          resend.push(c);
        } else {
          this.settle(c.id, false, new WorkerCrashedError(`${what} while running ${this.className}.${c.method}; with delivery 'at-most-once' the call is not run again`));
        }
      }
      this.outbox = [...resend, ...this.outbox];
      this.dropLater(old);
      if (this.stopping) return;
      await this.place();
    } catch (error) {
      this.failInit(error);
    } finally {
      this.recovering = false;
    }
    this.flush();
  }

  // ── liveness and process refs ────────────────────────────────────────────

  private updateBusy(): void {
    const busy = !this.stopped && (this.pending.size > 0 || (!this.isReady && !this.initError) || this.stopping);
    if (busy !== this.busy) {
      this.busy = busy;
      this.client.setBusy(this, busy);
    }
    this.updateWatch();
  }

  /**
   * Watches the host's lease while calls are in flight. Going idle does not unwatch at once: the
   * client drops the watch at its next lease check if this is still idle (see wantsWatch).
   */
  private updateWatch(): void {
    const host = this.placement?.hostId;
    if (!this.busy || this.stopping || this.initError || host === undefined || host === this.watchedHost) return;
    this.unwatch();
    this.watchedHost = host;
    this.client.watchHost(host, this.watcher);
  }

  private unwatch(): void {
    if (this.watchedHost) this.client.unwatchHost(this.watchedHost, this.watcher);
    this.watchedHost = undefined;
  }

  private readonly watcher: HostWatcher = {
    hostGone: (hostId) => {
      this.watchedHost = undefined;
      this.onHostGone(hostId);
    },
    wantsWatch: (hostId) => {
      const wants = this.busy && !this.stopping && !this.initError && this.placement?.hostId === hostId && this.watchedHost === hostId;
      if (!wants && this.watchedHost === hostId) this.watchedHost = undefined;
      return wants;
    },
  };
}

function uncodableArgument(className: string, call: PendingCall, error: Error): TypeError {
  for (let i = 0; i < call.args.length; i++) {
    try {
      pack(call.args[i]);
    } catch (e) {
      return new TypeError(`Argument ${i + 1} of ${className}.${call.method} cannot be sent to the worker: ${(e as Error).message}`);
    }
  }
  return new TypeError(`The arguments of ${className}.${call.method} cannot be sent to the worker: ${error.message}`);
}

/** JSON turns Infinity into null (which the host reads as 0): send the largest finite number instead, which never runs out. */
function jsonDuration(ms: number): number {
  return Number.isFinite(ms) ? ms : Number.MAX_VALUE;
}
