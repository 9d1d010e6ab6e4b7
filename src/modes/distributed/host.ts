/**
 * A distributed host: the process `npx concurry host` runs on each machine. It loads the modules it
 * was started with (and nothing else), takes placements of their classes from BullMQ control
 * queues and runs each placed instance in a WorkerRuntime, fed by the instance's own BullMQ queue.
 * Results go back to each caller's reply list, batched per tick.
 *
 * This module composes the host's concerns, each in host/: the class table (class-table.ts),
 * placements, callers' leases (callers.ts), the bus and limit channels (bus.ts), replies, the
 * hosted instances (hosted-instance.ts) and shutdown.
 *
 * Liveness: the host renews its lease key every third of `leaseMs`; callers watch it. It watches
 * its callers' leases in turn and ends the instances of a caller that is gone.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Redis as RedisClient } from 'ioredis';
import { ConfigError } from '../../errors.js';
import { checkDuration } from '../../config/validate.js';
import type { RetryBudgetClient } from '../../retry/budget.js';
import type { LimitsLike } from '../../limits/index.js';
import { connectionFromEnv, createClient, describeConnection, loadBullmq, redactSecrets, waitForReady, type ConnectionOption } from './connection.js';
import { withScripts, type ScriptClient } from './lua.js';
import { limitsFromDescription, type LimitsBackend, type RedisLimitSet } from './redis-limits.js';
import type { WorkerClass } from './security.js';
import { Keys, type HostInfo, type HostMessage, type PlacementPayload } from './wire.js';
import { HostBus } from './host/bus.js';
import { CallerWatch } from './host/callers.js';
import { ClassTable } from './host/class-table.js';
import { HostedInstance, type InstanceHost } from './host/hosted-instance.js';
import { HostLog, messageOf } from './host/log.js';
import { obliterateQueue, Placements } from './host/placements.js';
import { Outbox } from './host/replies.js';
import { shutdownHost } from './host/shutdown.js';

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

/**
 * What a host builds that is not in its modules: concurry's TaskWorker class, handed in by the
 * entry (`concurry/distributed`) because it belongs to a layer above the modes.
 */
export interface HostBuiltins {
  TaskWorker: WorkerClass;
}

/** Starts a host; resolves once it takes placements. */
export async function startHostWith(options: HostOptions, builtins: HostBuiltins): Promise<DistributedHost> {
  const host = new Host(options);
  await host.start(builtins);
  return host;
}

class Host implements DistributedHost, InstanceHost {
  readonly id = randomUUID();
  private readonly keys: Keys;
  private readonly leaseMs: number;
  private readonly capacity: number;
  private readonly allowSource: boolean;
  private readonly log: HostLog;
  private readonly name: string;
  private table!: ClassTable;
  private cmd!: ScriptClient;
  private sub!: RedisClient;
  private bus!: HostBus;
  private bullmq!: typeof import('bullmq');
  private readonly instances = new Map<string, HostedInstance>();
  private heartbeat?: NodeJS.Timeout;
  private readonly limitSets = new Map<string, RedisLimitSet>();
  private stopping?: Promise<void>;
  private connectedOnce = false;
  private readonly limitsBackend: LimitsBackend;
  private readonly outbox: Outbox;
  private readonly callers: CallerWatch;
  private readonly placements: Placements;

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
    this.log = new HostLog(options.log);
    this.name = options.name ?? `${os.hostname()}:${process.pid}`;
    const client = () => this.cmd;
    const log = (line: string) => this.log.line(line);
    const stopping = () => this.stopping !== undefined;
    this.limitsBackend = {
      get client() {
        return client();
      },
      keys: this.keys,
      leaseMs: this.leaseMs,
      onRelease: (channel, fn) => this.bus.subscribe(channel, fn),
      onError: (error) => log(`limits: ${redactSecrets(messageOf(error))}`),
    };
    this.outbox = new Outbox({ client, keys: this.keys, log, className: (id) => this.instances.get(id)?.className });
    this.callers = new CallerWatch({
      client,
      keys: this.keys,
      stopping,
      log,
      endOrphan: (id) => void this.instances.get(id)?.stop(0, false).then(() => this.placements.dropInstanceKeys(id)),
    });
    this.placements = new Placements({
      hostId: this.id,
      client,
      bullmq: () => this.bullmq,
      keys: this.keys,
      capacity: this.capacity,
      leaseMs: this.leaseMs,
      stopping,
      log,
      logOnce: (line) => this.log.once(line),
      beat: () => void this.beat(),
      instances: this.instances,
      callers: this.callers,
      newInstance: (data) => new HostedInstance(this, data),
    });
  }

  get classes(): readonly string[] {
    return this.table.names;
  }

  get hosted(): number {
    return this.instances.size;
  }

  async start(builtins: HostBuiltins): Promise<void> {
    this.table = await ClassTable.load(this.options.modules, this.allowSource, builtins.TaskWorker);
    this.bullmq = await loadBullmq();
    const conn = connectionFromEnv(this.options.connection);
    const onError = (m: string) => this.log.once(`redis: ${m}`);
    this.cmd = withScripts(await createClient(conn, `concurry:host:${this.name}`, onError));
    this.connectedOnce = this.cmd.status === 'ready';
    this.cmd.on('ready', () => {
      if (!this.connectedOnce) return void (this.connectedOnce = true);
      this.log.line('reconnected to Redis');
      void this.beat();
      void this.placements.revalidate();
    });
    this.sub = await createClient(conn, `concurry:host-bus:${this.name}`, onError);
    try {
      await Promise.all([waitForReady(this.cmd, conn), waitForReady(this.sub, conn)]);
    } catch (error) {
      this.cmd.disconnect();
      this.sub.disconnect();
      throw error;
    }
    this.bus = new HostBus(this.sub, this.keys.bus, (id) => this.instances.get(id));
    await this.bus.open();
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), Math.max(30, Math.floor(this.leaseMs / 3)));
    await this.placements.open(this.table.names);
    void this.cleanDeadHosts();
    this.log.line(
      `host ${this.id} (${this.name}) up: redis ${describeConnection(conn)}, prefix '${this.keys.prefix}', classes ${this.classes.join(', ')}, ` +
        `concurrency ${this.capacity}, lease ${this.leaseMs} ms${this.allowSource ? ', accepts functions sent as source' : ''}`,
    );
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
        await obliterateQueue(this.bullmq, this.cmd, this.keys, this.keys.hostQueue(id));
      }
    } catch {
      /* best effort */
    }
  }

  // InstanceHost: what a hosted instance may ask of its host.

  workerClass(name: string): WorkerClass {
    return this.table.get(name);
  }

  runtimeOptions<T>(encoded: unknown, cls: WorkerClass): T {
    return this.table.runtimeOptions<T>(encoded, cls);
  }

  limits(description: NonNullable<PlacementPayload['limits']>, workerIndex: number): LimitsLike {
    return limitsFromDescription(this.limitsBackend, description, workerIndex, this.limitSets);
  }

  budget(b: NonNullable<PlacementPayload['budget']>): RetryBudgetClient {
    const client = this.cmd;
    const key = this.keys.budget(b.id);
    return {
      recordCall: () => void client.concurryBudget(1, key, 'record', b.ratio, b.minPerSecond).catch(() => {}),
      tryRetry: () => client.concurryBudget(1, key, 'try', b.ratio, b.minPerSecond).then((r) => r === 1, () => true),
    };
  }

  instanceWorker(...args: Parameters<Placements['instanceWorker']>): ReturnType<Placements['instanceWorker']> {
    return this.placements.instanceWorker(...args);
  }

  post(callerId: string, msg: HostMessage): void {
    this.outbox.post(callerId, msg);
  }

  flush(): Promise<unknown> {
    return this.outbox.flush();
  }

  warn(line: string): void {
    this.log.once(line);
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private shutdown(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    const parts = {
      id: this.id,
      keys: this.keys,
      cmd: this.cmd,
      sub: this.sub,
      bullmq: this.bullmq,
      instances: this.instances,
      placements: this.placements,
      callers: this.callers,
      limitSets: this.limitSets.values(),
      post: (callerId: string, msg: HostMessage) => this.post(callerId, msg),
      flush: () => this.flush(),
      log: (line: string) => this.log.line(line),
    };
    return shutdownHost(parts, this.options.drainTimeoutMs ?? 30_000);
  }
}
