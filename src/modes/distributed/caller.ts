/**
 * The caller process's side of distributed mode, shared by every handle using the same Redis and
 * prefix: two connections (commands, and a blocking one that reads this process's reply list), the
 * caller lease hosts use to notice a dead caller, host leases watched on a timer set for the moment
 * they would expire, and routing of replies to transports by instance id.
 */
import { randomUUID } from 'node:crypto';
import type { Redis as RedisClient } from 'ioredis';
import type { Queue as BullQueue } from 'bullmq';
import { createClient, connectionKey, loadBullmq, setClientRef, waitForReady, within, type RedisConnectionOptions } from './connection.js';
import { withScripts, type ScriptClient } from './lua.js';
import { HostRefusedError } from './security.js';
import { CALLER_LEASE_MS, Keys, TAG_CLAIMED, TAG_MESSAGES, unpack, type HostInfo, type HostMessage } from './wire.js';

/** How often a caller renews its lease key (see CALLER_LEASE_MS). */
const CALLER_RENEW_MS = 5_000;

/** What the client needs from a transport. */
export interface ClientTransport {
  onClaimed(instanceId: string, hostId: string): void;
  onMessage(msg: HostMessage): void;
  onHostGone(hostId: string): void;
  revalidate(): void;
}

/** Who watches a host's lease: told when it expired; asked at each check whether it still cares. */
export interface HostWatcher {
  hostGone(hostId: string): void;
  wantsWatch(hostId: string): boolean;
}

type HostWatch = { listeners: Set<HostWatcher>; timer?: NodeJS.Timeout; checking: boolean };

const clients = new Map<string, CallerClient>();

export class CallerClient {
  readonly id = randomUUID();
  readonly keys: Keys;
  cmd!: ScriptClient;
  private blk!: RedisClient;
  bullmq!: typeof import('bullmq');
  readonly ready: Promise<void>;
  private readonly routes = new Map<string, ClientTransport>();
  private readonly users = new Set<ClientTransport>();
  private readonly busy = new Set<ClientTransport>();
  private readonly watches = new Map<string, HostWatch>();
  private readonly ctlQueues = new Map<string, BullQueue>();
  private readonly keyRefs = new Map<string, { count: number; keys: string[] }>();
  /** Placements this process made per host that the host's published load may not show yet. */
  private readonly recentPlacements = new Map<string, Set<string>>();
  private renewTimer?: NodeJS.Timeout;
  private closed = false;
  private connectedOnce = false;

  private constructor(
    private readonly mapKey: string,
    private readonly conn: RedisConnectionOptions,
    readonly prefix: string,
  ) {
    this.keys = new Keys(prefix);
    this.ready = this.open();
    this.ready.catch(() => this.discard());
  }

  /** The shared client for this connection and prefix (created on first use); counts `user`. */
  static attach(conn: RedisConnectionOptions, prefix: string, user: ClientTransport): CallerClient {
    const key = `${connectionKey(conn)}|${prefix}`;
    let client = clients.get(key);
    if (!client) clients.set(key, (client = new CallerClient(key, conn, prefix)));
    client.users.add(user);
    return client;
  }

  private async open(): Promise<void> {
    this.bullmq = await loadBullmq();
    this.cmd = withScripts(await createClient(this.conn, 'concurry:caller'));
    this.connectedOnce = this.cmd.status === 'ready';
    this.cmd.on('ready', () => {
      if (!this.connectedOnce) {
        this.connectedOnce = true;
        return;
      }
      // Reconnected (Redis restarted?): renew the lease at once and let every transport check its instance still exists.
      void this.renew();
      for (const t of this.users) t.revalidate();
    });
    this.blk = await createClient(this.conn, 'concurry:caller-replies');
    this.updateRef();
    await Promise.all([waitForReady(this.cmd, this.conn), waitForReady(this.blk, this.conn)]);
    await this.renew();
    this.renewTimer = setInterval(() => void this.renew(), CALLER_RENEW_MS);
    this.renewTimer.unref();
    void this.readReplies();
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    await this.cmd.set(this.keys.caller(this.id), '1', 'PX', CALLER_LEASE_MS).catch(() => {});
  }

  private async readReplies(): Promise<void> {
    const key = this.keys.reply(this.id);
    while (!this.closed) {
      let item: [Buffer, Buffer] | null;
      try {
        item = (await this.blk.blpopBuffer(key, 0));
      } catch {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 50).unref());
        continue;
      }
      if (!item) continue;
      this.dispatch(item[1]);
      // Whatever else is waiting comes in one more round trip (LPOP with a count: Redis >= 6.2).
      if (this.lpopCount) {
        try {
          const more = await this.blk.lpopBuffer(key, 256);
          if (more) for (const b of more) this.dispatch(b);
        } catch (error) {
          if (this.closed) return;
          if (/wrong number of arguments|syntax error/i.test(String((error as Error)?.message))) this.lpopCount = false;
        }
      }
    }
  }

  private lpopCount = true;

  private dispatch(buffer: Buffer): void {
    const tag = buffer[0];
    if (tag === TAG_CLAIMED) {
      const [instanceId, hostId] = buffer.subarray(1).toString('utf8').split(' ');
      this.routes.get(instanceId)?.onClaimed(instanceId, hostId);
      return;
    }
    if (tag !== TAG_MESSAGES) return;
    let messages: HostMessage[];
    try {
      messages = unpack<HostMessage[]>(buffer.subarray(1));
    } catch {
      return;
    }
    for (const m of messages) {
      if (m.t === 'host-exit') {
        this.hostGone(m.h);
        continue;
      }
      this.routes.get(m.i)?.onMessage(m);
    }
  }

  /** True while the command connection is up (cleanup is skipped, not waited for, when it is not). */
  get connected(): boolean {
    return this.cmd?.status === 'ready';
  }

  route(instanceId: string, t: ClientTransport): void {
    this.routes.set(instanceId, t);
  }

  unroute(instanceId: string): void {
    this.routes.delete(instanceId);
  }

  /** A transport with calls in flight (or starting, or stopping) keeps the process alive. */
  setBusy(t: ClientTransport, busy: boolean): void {
    const had = this.busy.size > 0;
    if (busy) this.busy.add(t);
    else this.busy.delete(t);
    if (had !== this.busy.size > 0) this.updateRef();
  }

  private updateRef(): void {
    const want = this.busy.size > 0;
    if (this.cmd) setClientRef(this.cmd, want);
    if (this.blk) setClientRef(this.blk, want);
  }

  /** The BullMQ queue of placements `name` (one object per process). */
  ctlQueue(name: string): BullQueue {
    let q = this.ctlQueues.get(name);
    if (!q) {
      q = new this.bullmq.Queue(name, { connection: this.cmd, prefix: this.prefix, skipVersionCheck: true, skipMetasUpdate: true });
      q.on('error', () => {});
      this.ctlQueues.set(name, q);
    }
    return q;
  }

  /** A new BullMQ queue object on the shared connection. */
  queue(name: string): BullQueue {
    const q = new this.bullmq.Queue(name, {
      connection: this.cmd,
      prefix: this.prefix,
      skipVersionCheck: true,
      skipMetasUpdate: true,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    });
    q.on('error', () => {});
    return q;
  }

  /**
   * The live host to place an instance of `cls` on: the least loaded of those serving the class
   * (its published load plus placements this process just made there), then the one this process
   * placed fewer instances on lately. Picks are made one at a time, so a pool's members spread out.
   * Undefined when no host is up; throws when hosts are up but none serves the class.
   */
  pickHost(cls: string, placementId: string): Promise<string | undefined> {
    const pick = this.picking.then(() => this.pickNow(cls, placementId));
    this.picking = pick.catch(() => {});
    return pick;
  }

  private picking: Promise<unknown> = Promise.resolve();

  private async pickNow(cls: string, placementId: string): Promise<string | undefined> {
    const ids = await this.cmd.smembers(this.keys.hosts);
    if (ids.length === 0) return undefined;
    const raw = await this.cmd.mget(ids.map((id) => this.keys.host(id)));
    const live: { info: HostInfo; recent: number; load: number }[] = [];
    const stale: string[] = [];
    const served = new Set<string>();
    raw.forEach((value, i) => {
      if (value === null) return void stale.push(ids[i]);
      try {
        const info = JSON.parse(value) as HostInfo;
        for (const c of info.classes) served.add(c);
        if (cls === 'TaskWorker' || info.classes.includes(cls)) {
          const recent = this.recentPlacements.get(info.id)?.size ?? 0;
          live.push({ info, recent, load: info.hosted + recent });
        }
      } catch {
        /* not a host of ours */
      }
    });
    if (stale.length) void this.cmd.srem(this.keys.hosts, ...stale).catch(() => {});
    if (live.length === 0) {
      if (served.size === 0) return undefined;
      throw new HostRefusedError(
        `No host serves class ${cls}: the hosts up on prefix '${this.prefix}' serve ${[...served].sort().join(', ')}. ` +
          `Start a host with a module exporting ${cls}: npx concurry host --module <file> (it must export the class under the name ${cls})`,
      );
    }
    const withRoom = live.filter((h) => h.info.hosted < h.info.capacity);
    const candidates = withRoom.length ? withRoom : live;
    candidates.sort((a, b) => a.load - b.load || a.recent - b.recent || (a.info.id < b.info.id ? -1 : 1));
    const chosen = candidates[0].info.id;
    let recent = this.recentPlacements.get(chosen);
    if (!recent) this.recentPlacements.set(chosen, (recent = new Set()));
    recent.add(placementId);
    // Until the host publishes its new load (at the latest on its next lease renewal).
    setTimeout(() => this.placementSettled(chosen, placementId), 3000).unref();
    return chosen;
  }

  /** The host reported on a placement it was picked for: its published load includes it now. */
  placementSettled(hostId: string, placementId: string): void {
    const recent = this.recentPlacements.get(hostId);
    if (!recent) return;
    recent.delete(placementId);
    if (recent.size === 0) this.recentPlacements.delete(hostId);
  }

  /**
   * Tells `fn` when `hostId`'s lease is found expired. The lease is read when it would expire (a
   * live host renews it before); watchers that no longer care are dropped at that moment, so a
   * busy/idle/busy handle costs no extra command per call.
   */
  watchHost(hostId: string, fn: HostWatcher): void {
    let w = this.watches.get(hostId);
    if (!w) this.watches.set(hostId, (w = { listeners: new Set(), checking: false }));
    w.listeners.add(fn);
    if (!w.timer && !w.checking) void this.checkHost(hostId);
  }

  unwatchHost(hostId: string, fn: HostWatcher): void {
    const w = this.watches.get(hostId);
    if (!w) return;
    w.listeners.delete(fn);
    if (w.listeners.size === 0) {
      if (w.timer) clearTimeout(w.timer);
      this.watches.delete(hostId);
    }
  }

  private async checkHost(hostId: string): Promise<void> {
    const w = this.watches.get(hostId);
    if (!w || this.closed) return;
    w.timer = undefined;
    for (const l of [...w.listeners]) if (!l.wantsWatch(hostId)) w.listeners.delete(l);
    if (w.listeners.size === 0) return void this.watches.delete(hostId);
    w.checking = true;
    let ttl: number;
    try {
      ttl = await this.cmd.pttl(this.keys.host(hostId));
    } catch {
      ttl = 1000;
    } finally {
      w.checking = false;
    }
    if (this.watches.get(hostId) !== w) return;
    if (ttl === -2) return this.hostGone(hostId);
    // Look again just after the lease would run out; a live host renews it before then.
    w.timer = setTimeout(() => void this.checkHost(hostId), (ttl > 0 ? ttl : 1000) + 25);
    w.timer.unref();
  }

  private hostGone(hostId: string): void {
    const w = this.watches.get(hostId);
    if (w) {
      if (w.timer) clearTimeout(w.timer);
      this.watches.delete(hostId);
      for (const l of w.listeners) l.hostGone(hostId);
    }
    // Also transports not watching right now (idle): their instance is gone too.
    for (const t of this.users) t.onHostGone(hostId);
  }

  /** Counts users of a group of keys (a limit set, a retry budget); the last release deletes them. */
  retainKeys(id: string, keys: string[]): void {
    const r = this.keyRefs.get(id);
    if (r) r.count++;
    else this.keyRefs.set(id, { count: 1, keys });
  }

  async releaseKeys(id: string): Promise<void> {
    const r = this.keyRefs.get(id);
    if (!r) return;
    if (--r.count > 0) return;
    this.keyRefs.delete(id);
    if (r.keys.length && this.connected) await within(this.cmd.del(...r.keys), 2000);
  }

  /** The connection could not be opened: forget this client (the next handle tries afresh). */
  private discard(): void {
    if (clients.get(this.mapKey) === this) clients.delete(this.mapKey);
    this.closed = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.blk?.disconnect();
    this.cmd?.disconnect();
  }

  /** A transport is done with the client; the last one closes it and removes this caller's keys. */
  async detach(t: ClientTransport): Promise<void> {
    this.users.delete(t);
    this.busy.delete(t);
    if (this.users.size > 0) return;
    if (clients.get(this.mapKey) === this) clients.delete(this.mapKey);
    this.closed = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    for (const w of this.watches.values()) if (w.timer) clearTimeout(w.timer);
    this.watches.clear();
    try {
      await this.ready;
    } catch {
      return;
    }
    const up = this.connected;
    if (up) await within(Promise.all([...this.ctlQueues.values()].map((q) => q.close())), 2000);
    this.ctlQueues.clear();
    if (up) await within(this.cmd.del(this.keys.caller(this.id), this.keys.reply(this.id)), 2000);
    this.blk.disconnect();
    if (!up || (await within(this.cmd.quit(), 1000)) === undefined) this.cmd.disconnect();
  }
}
