/**
 * A distributed host: the process `npx concurry host` runs on each machine. It loads the modules it
 * was started with (and nothing else), takes placements of their classes from BullMQ control
 * queues — its own, where callers aim placements, and each class's shared queue, used when no host
 * was up — and runs each placed instance in a WorkerRuntime (ordering, retries, limits: the same
 * code as every other mode), fed by the instance's own BullMQ queue. Results go back to each
 * caller's reply list, batched per tick.
 *
 * Liveness: the host renews its lease key every third of `leaseMs`; callers watch it. It watches
 * its callers' leases in turn and ends the instances of a caller that is gone.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Job, Worker as BullWorker } from 'bullmq';
import type { Redis as RedisClient } from 'ioredis';
import { CancelledError, ConfigError, WorkerCrashedError, WorkerInitError } from '../../errors.js';
import { emptyLimitSet, type LimitsLike } from '../../limits/index.js';
import type { RetryBudgetClient } from '../../retry/budget.js';
import { WorkerRuntime, type RuntimeOptions } from '../../runtime/runtime.js';
import type { Settler } from '../transport.js';
import type { RuntimeEvent } from '../../runtime/events.js';
import { observeLimitWaits } from '../../resilience/limit-events.js';
import { encodeError } from '../../serialize/errors.js';
import { TaskWorker } from '../../task/task-worker.js';
import { CALLER_LEASE_MS } from './caller.js';
import { checkDuration } from '../../config/validate.js';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../../util/long-timeout.js';
import { connectionFromEnv, createClient, describeConnection, loadBullmq, redactSecrets, waitForReady, within, type ConnectionOption } from './connection.js';
import { withScripts, type ScriptClient } from './lua.js';
import { limitsFromDescription, type LimitsBackend, type RedisLimitSet } from './redis-limits.js';
import { CodeGate, HostRefusedError, isTaskWorkerClass } from './security.js';
import { Keys, pack, TAG_CLAIMED, TAG_MESSAGES, unpack, type BusMessage, type HostInfo, type HostMessage, type PlacementData, type PlacementPayload, type WireCall, type WireResult } from './wire.js';

/** Options of {@link startHost} (the CLI's flags). */
export interface HostOptions {
  /** Redis URL or options; default: CONCURRY_REDIS_URL / REDIS_URL, else redis://127.0.0.1:6379. */
  connection?: ConnectionOption;
  /** Key prefix; must match the callers' `prefix` option. Default 'concurry'. */
  prefix?: string;
  /** Modules (paths or file URLs) whose exported classes this host may build. */
  modules: string[];
  /** Worker instances hosted at once. Default: the number of CPUs. */
  concurrency?: number;
  /** Lease of this host (and of the limit resources its workers hold), ms. Default 10000. */
  leaseMs?: number;
  /** Accept functions sent as source text (TaskWorker functions, retry predicates). Default false. */
  allowSourceFunctions?: boolean;
  /** A name for logs and host info. Default: the machine's host name and pid. */
  name?: string;
  /** On shutdown, how long running and queued calls may take to finish, ms. Default 30000. */
  drainTimeoutMs?: number;
  /** Where log lines go (never with secrets). Default: none. */
  log?: (line: string) => void;
}

/** A running host. */
export interface DistributedHost {
  readonly id: string;
  /** Classes this host can build. */
  readonly classes: readonly string[];
  /** Instances hosted now. */
  readonly hosted: number;
  /** Drains (finishing the calls it fetched, up to drainTimeoutMs), tells callers, and disconnects. */
  stop(): Promise<void>;
}

const REPLY_TTL_MS = 60_000;
const TAG_MESSAGE_BYTE = Buffer.from([TAG_MESSAGES]);
/** Jobs of one instance's queue fetched at once. */
const INSTANCE_PREFETCH = 16;

/** Starts a host; resolves once it takes placements. */
export async function startHost(options: HostOptions): Promise<DistributedHost> {
  const host = new Host(options);
  await host.start();
  return host;
}

class Host implements DistributedHost {
  readonly id = randomUUID();
  readonly keys: Keys;
  private readonly leaseMs: number;
  private readonly capacity: number;
  readonly allowSource: boolean;
  private readonly log: (line: string) => void;
  private readonly name: string;
  readonly classMap = new Map<string, new (...args: any[]) => object>();
  private readonly functions = new Map<string, Function>();
  readonly moduleNames: string[] = [];
  /** Everything received that must become callable passes through here (see security.ts). */
  gate!: CodeGate;
  private cmd!: ScriptClient;
  private sub!: RedisClient;
  private bullmq!: typeof import('bullmq');
  private readonly ctlWorkers: BullWorker[] = [];
  private ownWorker?: BullWorker;
  private readonly sharedWorkers: BullWorker[] = [];
  readonly instances = new Map<string, HostedInstance>();
  private slotsUsed = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private heartbeat?: NodeJS.Timeout;
  private readonly callerWatches = new Map<string, { timer?: NodeJS.Timeout; instances: Set<string> }>();
  private readonly channelListeners = new Map<string, Set<() => void>>();
  readonly limitSets = new Map<string, RedisLimitSet>();
  private outbox = new Map<string, HostMessage[]>();
  private flushScheduled = false;
  private stopping?: Promise<void>;
  private connectedOnce = false;
  readonly limitsBackend: LimitsBackend;

  constructor(private readonly options: HostOptions) {
    if (!Array.isArray(options.modules) || options.modules.length === 0) {
      throw new ConfigError('A host needs at least one module whose classes it may build (--module ./path/to/workers.ts)');
    }
    this.keys = new Keys(options.prefix ?? 'concurry');
    this.leaseMs = options.leaseMs ?? 10_000;
    if (!Number.isInteger(this.leaseMs) || this.leaseMs < 100) throw new ConfigError(`Host leaseMs must be an integer >= 100, got ${String(options.leaseMs)}`);
    this.capacity = options.concurrency ?? os.cpus().length;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new ConfigError(`Host concurrency must be an integer >= 1, got ${String(options.concurrency)}`);
    checkDuration('drainTimeoutMs', options.drainTimeoutMs);
    this.allowSource = options.allowSourceFunctions === true;
    this.log = options.log ?? (() => {});
    this.name = options.name ?? `${os.hostname()}:${process.pid}`;
    const host = this;
    this.limitsBackend = {
      get client() {
        return host.cmd;
      },
      keys: this.keys,
      leaseMs: this.leaseMs,
      onRelease: (channel, fn) => this.subscribe(channel, fn),
      onError: (error) => this.log(`limits: ${redactSecrets(String((error as Error)?.message ?? error))}`),
    };
  }

  /** @internal a log line about something a host ignored. */
  warn(line: string): void {
    this.logOnce(line);
  }

  private readonly lastLogged = new Map<string, number>();

  /** Logs a line at most every 10 s (reconnect errors repeat many times a second while Redis is down). */
  private logOnce(line: string): void {
    const now = Date.now();
    const last = this.lastLogged.get(line);
    if (last !== undefined && now - last < 10_000) return;
    if (this.lastLogged.size > 1000) this.lastLogged.clear();
    this.lastLogged.set(line, now);
    this.log(line);
  }

  get classes(): readonly string[] {
    return [...this.classMap.keys()];
  }

  get hosted(): number {
    return this.instances.size;
  }

  async start(): Promise<void> {
    await this.loadModules();
    this.bullmq = await loadBullmq();
    const conn = connectionFromEnv(this.options.connection);
    const onError = (m: string) => this.logOnce(`redis: ${m}`);
    this.cmd = withScripts(await createClient(conn, `concurry:host:${this.name}`, onError));
    this.connectedOnce = this.cmd.status === 'ready';
    this.cmd.on('ready', () => {
      if (!this.connectedOnce) return void (this.connectedOnce = true);
      this.log('reconnected to Redis');
      void this.beat();
      void this.revalidate();
    });
    this.sub = await createClient(conn, `concurry:host-bus:${this.name}`, onError);
    try {
      await Promise.all([waitForReady(this.cmd, conn), waitForReady(this.sub, conn)]);
    } catch (error) {
      this.cmd.disconnect();
      this.sub.disconnect();
      throw error;
    }
    this.sub.on('message', (channel: string, message: string) => this.onChannelMessage(channel, message));
    await this.sub.subscribe(this.keys.bus);
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), Math.max(30, Math.floor(this.leaseMs / 3)));
    // Placements aimed at this host, and each class's shared queue.
    this.ownWorker = this.placementWorker(this.keys.hostQueue(this.id), false);
    for (const cls of this.classMap.keys()) this.sharedWorkers.push(this.placementWorker(this.keys.classQueue(cls), true));
    await Promise.all(this.ctlWorkers.map((w) => w.waitUntilReady()));
    void this.cleanDeadHosts();
    this.log(
      `host ${this.id} (${this.name}) up: redis ${describeConnection(conn)}, prefix '${this.keys.prefix}', classes ${this.classes.join(', ')}, ` +
        `concurrency ${this.capacity}, lease ${this.leaseMs} ms${this.allowSource ? ', accepts functions sent as source' : ''}`,
    );
  }

  private async loadModules(): Promise<void> {
    (globalThis as any)[Symbol.for('concurry.locating')] = true;
    try {
      for (const spec of this.options.modules) {
        const url = /^(file|data|node):/.test(spec) ? spec : pathToFileURL(resolvePath(spec)).href;
        let mod: Record<string, unknown>;
        try {
          mod = await import(url);
        } catch (error) {
          throw new ConfigError(`Host could not load module ${spec}: ${(error as Error).message.split('\n')[0]}`);
        }
        this.moduleNames.push(spec);
        for (const [exportName, value] of Object.entries(mod)) {
          if (typeof value !== 'function') continue;
          if (/^class[\s{]/.test(Function.prototype.toString.call(value))) {
            if (value.prototype instanceof Error) continue;
            for (const name of new Set([exportName, value.name])) {
              if (!name || name === 'default') continue;
              const existing = this.classMap.get(name);
              if (existing && existing !== value) throw new ConfigError(`Two modules export a class named ${name}; a host must know which one callers mean`);
              this.classMap.set(name, value as new (...args: any[]) => object);
            }
          } else {
            this.functions.set(exportName, value);
          }
        }
      }
    } finally {
      (globalThis as any)[Symbol.for('concurry.locating')] = false;
    }
    this.gate = new CodeGate(this.allowSource, this.functions, this.moduleNames);
    // TaskWorker classes turn data into code: the host builds them only behind the gate — concurry's
    // own, and any a module exports (re-exported under another name, or extended).
    for (const [name, cls] of this.classMap) if (isTaskWorkerClass(cls)) this.classMap.set(name, this.gate.taskWorkerClass(cls));
    this.classMap.set('TaskWorker', this.gate.taskWorkerClass(TaskWorker));
  }

  private info(): HostInfo {
    return {
      id: this.id,
      name: this.name,
      pid: process.pid,
      hostname: os.hostname(),
      classes: this.classes.filter((c) => c !== 'TaskWorker'),
      capacity: this.capacity,
      hosted: this.instances.size,
      leaseMs: this.leaseMs,
      allowSourceFunctions: this.allowSource,
    };
  }

  /** Renews the lease (and publishes the load callers balance on). */
  private async beat(): Promise<void> {
    if (this.stopping) return;
    await Promise.all([this.cmd.set(this.keys.host(this.id), JSON.stringify(this.info()), 'PX', this.leaseMs), this.cmd.sadd(this.keys.hosts, this.id)]).catch(() => {});
  }

  /** Removes what hosts that died left behind: their placement queue and their entry in the hosts set. */
  private async cleanDeadHosts(): Promise<void> {
    try {
      const ids = (await this.cmd.smembers(this.keys.hosts)).filter((id) => id !== this.id);
      if (ids.length === 0) return;
      const infos = await this.cmd.mget(ids.map((id) => this.keys.host(id)));
      for (const [i, id] of ids.entries()) {
        if (infos[i] !== null) continue;
        await this.cmd.srem(this.keys.hosts, id);
        const q = new this.bullmq.Queue(this.keys.hostQueue(id), { connection: this.cmd, prefix: this.keys.prefix, skipVersionCheck: true, skipMetasUpdate: true });
        await q.obliterate({ force: true }).catch(() => {});
        await q.close().catch(() => {});
      }
    } catch {
      /* best effort */
    }
  }

  // ── placements ───────────────────────────────────────────────────────────

  private placementWorker(queue: string, shared: boolean): BullWorker {
    const worker: BullWorker = new this.bullmq.Worker(queue, (job: Job, token?: string) => this.onPlacement(job, token, shared), {
      connection: this.cmd,
      prefix: this.keys.prefix,
      concurrency: this.capacity,
      lockDuration: this.leaseMs,
      stalledInterval: this.leaseMs,
      maxStalledCount: 1,
      skipVersionCheck: true,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    });
    worker.on('error', (error) => {
      if (!this.stopping) this.logOnce(`placement queue ${queue}: ${redactSecrets(error.message)}`);
    });
    if (!shared) this.ownWorker = worker;
    this.ctlWorkers.push(worker);
    return worker;
  }

  private async onPlacement(job: Job, token: string | undefined, shared: boolean): Promise<void> {
    if (this.stopping) {
      // Leave it for another host.
      if (token) await job.moveToWait(token);
      throw new this.bullmq.WaitingError();
    }
    if (shared && this.slotsUsed >= this.capacity) {
      // Full: give it back and stop taking from shared queues until a slot frees.
      for (const w of this.sharedWorkers) void w.pause(true);
      if (token) await job.moveToWait(token);
      throw new this.bullmq.WaitingError();
    }
    await this.takeSlot();
    try {
      await this.place(job.data as PlacementData);
    } finally {
      this.releaseSlot();
    }
  }

  private takeSlot(): Promise<void> {
    if (this.slotsUsed < this.capacity) {
      this.slotsUsed++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) return next();
    this.slotsUsed--;
    if (this.slotsUsed < this.capacity && !this.stopping) for (const w of this.sharedWorkers) if (w.isPaused()) w.resume();
  }

  private async place(data: PlacementData): Promise<void> {
    if (!data || typeof data !== 'object' || ![data.i, data.c, data.cls, data.p].every((v) => typeof v === 'string' && v.length > 0)) {
      this.log('ignored a placement job that is not one');
      return;
    }
    const claimed = Buffer.concat([Buffer.from([TAG_CLAIMED]), Buffer.from(`${data.i} ${this.id}`, 'utf8')]);
    const r = await this.cmd.concurryClaim(3, this.keys.instance(data.i), this.keys.caller(data.c), this.keys.reply(data.c), this.id, claimed, REPLY_TTL_MS);
    if (r === -1) {
      await this.dropInstanceKeys(data.i);
      return;
    }
    if (r !== 1) return;
    const inst = new HostedInstance(this, data);
    this.instances.set(data.i, inst);
    this.watchCaller(data.c, data.i);
    void this.beat();
    try {
      await inst.start();
      await inst.finished;
    } finally {
      this.instances.delete(data.i);
      this.unwatchCaller(data.c, data.i);
      void this.beat();
    }
  }

  /** Deletes an instance's keys (when its caller is gone and cannot). */
  async dropInstanceKeys(instanceId: string): Promise<void> {
    const q = new this.bullmq.Queue(this.keys.instanceQueue(instanceId), { connection: this.cmd, prefix: this.keys.prefix, skipVersionCheck: true, skipMetasUpdate: true });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close().catch(() => {});
    await this.cmd.del(this.keys.instance(instanceId)).catch(() => {});
  }

  /** A BullMQ worker consuming one instance's call queue (its own blocking connection). */
  instanceWorker(instanceId: string, processor: (job: Job) => void): BullWorker {
    const w = new this.bullmq.Worker(this.keys.instanceQueue(instanceId), async (job: Job) => processor(job), {
      connection: this.cmd,
      prefix: this.keys.prefix,
      // Fetch ahead: jobs are numbered, HostedInstance runs them in order whatever order they come in.
      concurrency: INSTANCE_PREFETCH,
      skipVersionCheck: true,
      skipStalledCheck: true,
      lockDuration: this.leaseMs,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    });
    w.on('error', (error) => {
      if (!this.stopping) this.logOnce(`instance queue: ${redactSecrets(error.message)}`);
    });
    return w;
  }

  /** After a reconnect: instances whose registry vanished (Redis lost its data) are gone; end them. */
  private async revalidate(): Promise<void> {
    for (const inst of [...this.instances.values()]) {
      try {
        const owner = await this.cmd.hget(this.keys.instance(inst.id), 'host');
        if (owner !== this.id) {
          this.log(`instance ${inst.id} of ${inst.className} no longer exists in Redis; ending it`);
          void inst.stop(0, false);
        }
      } catch {
        /* try again on the next reconnect */
      }
    }
  }

  // ── callers ──────────────────────────────────────────────────────────────

  private watchCaller(callerId: string, instanceId: string): void {
    let w = this.callerWatches.get(callerId);
    if (!w) {
      this.callerWatches.set(callerId, (w = { instances: new Set() }));
      w.timer = setTimeout(() => void this.checkCaller(callerId), CALLER_LEASE_MS);
    }
    w.instances.add(instanceId);
  }

  private unwatchCaller(callerId: string, instanceId: string): void {
    const w = this.callerWatches.get(callerId);
    if (!w) return;
    w.instances.delete(instanceId);
    if (w.instances.size === 0) {
      if (w.timer) clearTimeout(w.timer);
      this.callerWatches.delete(callerId);
    }
  }

  private async checkCaller(callerId: string): Promise<void> {
    const w = this.callerWatches.get(callerId);
    if (!w || this.stopping) return;
    let ttl: number;
    try {
      ttl = await this.cmd.pttl(this.keys.caller(callerId));
    } catch {
      ttl = 1000;
    }
    if (this.callerWatches.get(callerId) !== w) return;
    if (ttl === -2) {
      this.log(`caller ${callerId} is gone; ending its ${w.instances.size} instance(s)`);
      for (const id of w.instances) {
        const inst = this.instances.get(id);
        if (inst) void inst.stop(0, false).then(() => this.dropInstanceKeys(id));
      }
      void this.cmd.del(this.keys.reply(callerId)).catch(() => {});
      return;
    }
    w.timer = setTimeout(() => void this.checkCaller(callerId), (ttl > 0 ? ttl : CALLER_LEASE_MS) + 50);
  }

  // ── bus and channels ─────────────────────────────────────────────────────

  private onChannelMessage(channel: string, message: string): void {
    if (channel === this.keys.bus) {
      let msg: BusMessage;
      try {
        msg = JSON.parse(message) as BusMessage;
      } catch {
        return;
      }
      const inst = this.instances.get(msg?.i);
      if (!inst) return;
      if (msg.t === 'stop') void inst.stop(typeof msg.timeout === 'number' && msg.timeout >= 0 ? msg.timeout : 0, true);
      else if (msg.t === 'cancel' && typeof msg.c === 'number') inst.cancel(msg.c);
      return;
    }
    const listeners = this.channelListeners.get(channel);
    if (listeners) for (const fn of listeners) fn();
  }

  private async subscribe(channel: string, fn: () => void): Promise<void> {
    let set = this.channelListeners.get(channel);
    if (!set) {
      this.channelListeners.set(channel, (set = new Set()));
      set.add(fn);
      await this.sub.subscribe(channel);
      return;
    }
    set.add(fn);
  }

  // ── replies ──────────────────────────────────────────────────────────────

  /** Queues a message for a caller; everything queued in one tick goes as one list element. */
  post(callerId: string, msg: HostMessage): void {
    let list = this.outbox.get(callerId);
    if (!list) this.outbox.set(callerId, (list = []));
    const last = list[list.length - 1];
    if (msg.t === 'r' && last?.t === 'r' && last.i === msg.i) last.b.push(...msg.b);
    else list.push(msg);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): Promise<unknown> {
    this.flushScheduled = false;
    if (this.outbox.size === 0) return Promise.resolve();
    const outbox = this.outbox;
    this.outbox = new Map();
    // Plain commands, not a pipeline: on a connection with BullMQ's scripts defined, each ioredis
    // pipeline copies every script method, which costs more than the commands themselves.
    const sent: Promise<unknown>[] = [];
    for (const [callerId, messages] of outbox) {
      const key = this.keys.reply(callerId);
      const elements = encodeMessages(messages, (i) => this.instances.get(i)).map((b) => Buffer.concat([TAG_MESSAGE_BYTE, b]));
      sent.push(this.cmd.rpush(key, ...elements), this.cmd.pexpire(key, REPLY_TTL_MS));
    }
    return Promise.all(sent).catch((error) => this.log(`could not send results: ${redactSecrets((error as Error).message)}`));
  }

  // ── shutdown ─────────────────────────────────────────────────────────────

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.log(`host ${this.id} stopping: draining ${this.instances.size} instance(s)`);
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const w of this.sharedWorkers) void w.pause(true).catch(() => {});
    void this.ownWorker?.pause(true).catch(() => {});
    const drainMs = this.options.drainTimeoutMs ?? 30_000;
    const callers = new Set<string>();
    await Promise.all(
      [...this.instances.values()].map((inst) => {
        callers.add(inst.callerId);
        return inst.drain(drainMs);
      }),
    );
    for (const c of callers) this.post(c, { t: 'host-exit', h: this.id });
    // Every Redis step is bounded: a host must be able to stop while Redis is unreachable.
    await within(this.flush(), 3000);
    await within(Promise.all([this.cmd.del(this.keys.host(this.id)), this.cmd.srem(this.keys.hosts, this.id)]), 3000);
    for (const inst of this.instances.values()) inst.end();
    for (const w of this.callerWatches.values()) if (w.timer) clearTimeout(w.timer);
    this.callerWatches.clear();
    await within(Promise.all(this.ctlWorkers.map((w) => w.close(true))), 3000);
    const own = new this.bullmq.Queue(this.keys.hostQueue(this.id), { connection: this.cmd, prefix: this.keys.prefix, skipVersionCheck: true, skipMetasUpdate: true });
    await within(own.obliterate({ force: true }), 3000);
    await within(own.close(), 1000);
    for (const s of this.limitSets.values()) s.dispose();
    this.sub.disconnect();
    if ((await within(this.cmd.quit(), 1000)) === undefined) this.cmd.disconnect();
    this.log(`host ${this.id} stopped`);
  }
}

/** One worker instance placed on this host. */
class HostedInstance {
  readonly id: string;
  readonly callerId: string;
  readonly className: string;
  private runtime?: WorkerRuntime;
  private worker?: BullWorker;
  private readonly cancelled = new Set<number>();
  private stopping = false;
  /** Stopped by the host, not by its caller: calls it cuts short are left to the caller's recovery. */
  private abandoned = false;
  private ended = false;
  /** Number of the next job to run, and jobs fetched ahead of their turn. */
  private nextSeq = 1;
  private readonly parked = new Map<number, string>();
  /** Calls received and not settled yet, and who waits for that to reach 0. */
  private inflight = 0;
  private idleWaiter?: () => void;
  private resolveFinished!: () => void;
  readonly finished = new Promise<void>((resolve) => (this.resolveFinished = resolve));

  constructor(
    private readonly host: Host,
    private readonly data: PlacementData,
  ) {
    this.id = data.i;
    this.callerId = data.c;
    this.className = data.cls;
  }

  /** Builds the instance and starts consuming its call queue; reports ready or init-error. */
  async start(): Promise<void> {
    try {
      const payload = unpack<PlacementPayload>(Buffer.from(this.data.p, 'base64'));
      const cls = this.host.classMap.get(this.className);
      if (!cls) {
        throw new HostRefusedError(
          `This host has no worker class ${this.className}: it builds only classes exported by the modules it was started with (${this.host.moduleNames.join(', ')})`,
        );
      }
      const options = { ...this.host.gate.runtimeOptions<RuntimeOptions>(payload.runtimeOptions, cls), inline: true };
      // Callers always send it; without it the instance would take calls and never run them.
      if (!Number.isSafeInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
        throw new HostRefusedError(`This host refuses a placement whose options are not what a caller sends (maxConcurrency is ${typeof options.maxConcurrency === 'number' ? options.maxConcurrency : `a ${typeof options.maxConcurrency}`})`);
      }
      const limits: LimitsLike = payload.limits
        ? limitsFromDescription(this.host.limitsBackend, payload.limits, payload.workerIndex, this.host.limitSets)
        : emptyLimitSet();
      const budget = payload.budget ? this.budgetClient(payload.budget) : undefined;
      const emit = (ev: RuntimeEvent) => this.host.post(this.callerId, { t: 'e', i: this.id, ev });
      this.runtime = new WorkerRuntime(cls, payload.ctorArgs, options, {
        emit,
        // Waits for limits are reported like on the caller's side in the other modes.
        limits: payload.limits ? observeLimitWaits(limits, emit, () => true) : limits,
        budget,
      });
    } catch (error) {
      const initError = error instanceof WorkerInitError ? error : new WorkerInitError(`${this.className} could not start on host ${this.host.id}: ${(error as Error)?.message ?? error}`, { cause: error });
      this.host.post(this.callerId, { t: 'init-error', i: this.id, e: encodeError(initError) });
      await this.host.flush();
      this.end();
      return;
    }
    this.host.post(this.callerId, { t: 'ready', i: this.id });
    if (this.stopping) return;
    this.worker = this.host.instanceWorker(this.id, (job) => this.run(job));
  }

  private budgetClient(b: NonNullable<PlacementPayload['budget']>): RetryBudgetClient {
    const client = this.host.limitsBackend.client;
    const key = this.host.keys.budget(b.id);
    return {
      recordCall: () => void client.concurryBudget(1, key, 'record', b.ratio, b.minPerSecond).catch(() => {}),
      tryRetry: () => client.concurryBudget(1, key, 'try', b.ratio, b.minPerSecond).then((r) => r === 1, () => true),
    };
  }

  /** One job = the calls the caller sent in one go, in order; job n+1 runs after job n. */
  private run(job: Job): void {
    const { s, c } = (job.data ?? {}) as { s?: unknown; c?: unknown };
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || typeof c !== 'string') {
      this.host.warn(`instance ${this.id}: ignored a job that is not a batch of calls`);
      return;
    }
    if (s !== this.nextSeq) {
      if (s > this.nextSeq) this.parked.set(s, c);
      return;
    }
    this.runCalls(c);
    this.nextSeq++;
    for (let next = this.parked.get(this.nextSeq); next !== undefined; next = this.parked.get(this.nextSeq)) {
      this.parked.delete(this.nextSeq++);
      this.runCalls(next);
    }
  }

  private runCalls(encoded: string): void {
    let calls: WireCall[];
    try {
      calls = unpack<WireCall[]>(Buffer.from(encoded, 'base64'));
      if (!Array.isArray(calls)) throw new TypeError('not an array');
    } catch (error) {
      // Never stall the instance on a bad job: skip it (its calls, if any, cannot be answered).
      this.host.warn(`instance ${this.id}: ignored a batch that cannot be decoded (${(error as Error).message})`);
      return;
    }
    for (const call of calls) {
      if (!Array.isArray(call) || typeof call[0] !== 'number' || typeof call[1] !== 'string' || !Array.isArray(call[2])) continue;
      const [id, method, args] = call;
      this.inflight++;
      const settler = new CallSettler(this, id, method);
      if (this.stopping || !this.runtime) settler.reject(new CancelledError('Worker stopped before the call ran'));
      else if (this.cancelled.delete(id)) settler.reject(new CancelledError('Call was cancelled'));
      else this.runtime.submit(id, method, args, settler);
    }
  }

  /** @internal */
  settle(id: number, ok: boolean, value: unknown): void {
    this.cancelled.delete(id);
    if (--this.inflight === 0) this.idleWaiter?.();
    // Ended by the host itself (Redis lost the instance, its caller is gone, the host shuts down): the
    // caller did not cancel anything, so a call cut short is the crash it is (at most once: never
    // re-run here; left unanswered, the caller's recovery could re-send a call that already ran).
    if (this.abandoned && !ok && value instanceof CancelledError) {
      value = new WorkerCrashedError(`The host ended ${this.className} (its state in Redis was lost, or the host is shutting down): ${value.message}`);
    }
    this.host.post(this.callerId, { t: 'r', i: this.id, b: [[id, ok, ok ? value : encodeError(value)]] });
  }

  cancel(id: number): void {
    if (this.runtime?.cancel(id)) this.settle(id, false, new CancelledError('Call was cancelled'));
    else if (this.cancelled.size < 10_000) this.cancelled.add(id);
  }

  /** Stops fetching, shuts the runtime down (queued calls cancelled, running ones get `timeout`), reports. */
  async stop(timeout: number, report: boolean): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abandoned = !report;
    const closing = this.worker ? within(this.worker.close(true), 3000) : undefined;
    await this.runtime?.shutdown(timeout);
    await closing;
    if (report) this.host.post(this.callerId, { t: 'stopped', i: this.id });
    await within(this.host.flush(), 3000);
    this.end();
  }

  /** Host shutdown: stop fetching, let every fetched call finish (up to `ms`), then stop. */
  async drain(ms: number): Promise<void> {
    if (this.stopping) return;
    if (this.worker) await within(this.worker.close(true), 3000);
    if (this.inflight > 0) {
      let timer: LongTimeout | undefined;
      await new Promise<void>((resolve) => {
        this.idleWaiter = resolve;
        timer = setLongTimeout(resolve, ms);
      });
      clearLongTimeout(timer);
    }
    await this.stop(0, false);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopping = true;
    void this.worker?.close(true).catch(() => {});
    this.resolveFinished();
  }
}

/** One small object per call: posts the outcome to the caller. */
class CallSettler implements Settler {
  constructor(
    private readonly inst: HostedInstance,
    private readonly id: number,
    readonly method: string,
  ) {}
  resolve(v: unknown): void {
    this.inst.settle(this.id, true, v);
  }
  reject(e: unknown): void {
    this.inst.settle(this.id, false, e);
  }
}

/** Packs a caller's messages; a result that cannot be encoded fails alone, with a clear error. */
function encodeMessages(messages: HostMessage[], instance: (id: string) => HostedInstance | undefined): Buffer[] {
  try {
    return [pack(messages)];
  } catch {
    const out: Buffer[] = [];
    for (const m of messages) {
      try {
        out.push(pack([m]));
        continue;
      } catch {
        /* below */
      }
      if (m.t !== 'r') continue;
      const results: WireResult[] = m.b.map((r) => {
        try {
          pack(r);
          return r;
        } catch (error) {
          const cls = instance(m.i)?.className ?? 'worker';
          return [r[0], false, encodeError(new TypeError(`The result of ${cls} call ${r[0]} cannot be sent back from the worker: ${(error as Error).message}`))];
        }
      });
      out.push(pack([{ ...m, b: results }]));
    }
    return out;
  }
}
