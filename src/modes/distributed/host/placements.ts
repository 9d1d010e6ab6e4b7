/**
 * Placements: a host takes them from BullMQ control queues — its own, where callers aim them, and
 * each class's shared queue, used when no host was up — claims the instance in Redis, and runs it
 * until it ends. `concurrency` slots bound the instances hosted at once.
 */
import type { Job, Worker as BullWorker } from 'bullmq';
import { redactSecrets } from '../connection.js';
import type { ScriptClient } from '../lua.js';
import { REPLY_TTL_MS, TAG_CLAIMED, type Keys, type PlacementData } from '../wire.js';
import type { CallerWatch } from './callers.js';
import type { HostedInstance } from './hosted-instance.js';

/** Jobs of one instance's queue fetched at once. */
const INSTANCE_PREFETCH = 16;

export interface PlacementDeps {
  readonly hostId: string;
  client(): ScriptClient;
  bullmq(): typeof import('bullmq');
  readonly keys: Keys;
  readonly capacity: number;
  readonly leaseMs: number;
  stopping(): boolean;
  log(line: string): void;
  logOnce(line: string): void;
  /** Renews the host's lease and load (after the number of hosted instances changed). */
  beat(): void;
  readonly instances: Map<string, HostedInstance>;
  readonly callers: CallerWatch;
  newInstance(data: PlacementData): HostedInstance;
}

export class Placements {
  /** Every control-queue worker (own and shared), for shutdown. */
  readonly workers: BullWorker[] = [];
  private own?: BullWorker;
  private readonly shared: BullWorker[] = [];
  private slotsUsed = 0;
  private readonly slotWaiters: (() => void)[] = [];

  constructor(private readonly deps: PlacementDeps) {}

  /** Starts taking placements aimed at this host, and from the shared queue of each class. */
  async open(classes: readonly string[]): Promise<void> {
    this.own = this.placementWorker(this.deps.keys.hostQueue(this.deps.hostId), false);
    for (const cls of classes) this.shared.push(this.placementWorker(this.deps.keys.classQueue(cls), true));
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  /** Host shutdown: takes no more placements. */
  pause(): void {
    for (const w of this.shared) void w.pause(true).catch(() => {});
    void this.own?.pause(true).catch(() => {});
  }

  private placementWorker(queue: string, shared: boolean): BullWorker {
    const { keys, capacity, leaseMs } = this.deps;
    const worker: BullWorker = new (this.deps.bullmq().Worker)(queue, (job: Job, token?: string) => this.onPlacement(job, token, shared), {
      connection: this.deps.client(),
      prefix: keys.prefix,
      concurrency: capacity,
      lockDuration: leaseMs,
      stalledInterval: leaseMs,
      maxStalledCount: 1,
      skipVersionCheck: true,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    });
    worker.on('error', (error) => {
      if (!this.deps.stopping()) this.deps.logOnce(`placement queue ${queue}: ${redactSecrets(error.message)}`);
    });
    this.workers.push(worker);
    return worker;
  }

  private async onPlacement(job: Job, token: string | undefined, shared: boolean): Promise<void> {
    if (this.deps.stopping()) {
      // Leave it for another host.
      if (token) await job.moveToWait(token);
      throw new (this.deps.bullmq().WaitingError)();
    }
    if (shared && this.slotsUsed >= this.deps.capacity) {
      // Full: give it back and stop taking from shared queues until a slot frees.
      for (const w of this.shared) void w.pause(true);
      if (token) await job.moveToWait(token);
      throw new (this.deps.bullmq().WaitingError)();
    }
    await this.takeSlot();
    try {
      await this.place(job.data as PlacementData);
    } finally {
      this.releaseSlot();
    }
  }

  private takeSlot(): Promise<void> {
    if (this.slotsUsed < this.deps.capacity) {
      this.slotsUsed++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) return next();
    this.slotsUsed--;
    if (this.slotsUsed < this.deps.capacity && !this.deps.stopping()) for (const w of this.shared) if (w.isPaused()) w.resume();
  }

  private async place(data: PlacementData): Promise<void> {
    if (!isPlacementData(data)) {
      this.deps.log('ignored a placement job that is not one');
      return;
    }
    const { keys, hostId, instances, callers } = this.deps;
    const claimed = Buffer.concat([Buffer.from([TAG_CLAIMED]), Buffer.from(`${data.i} ${hostId}`, 'utf8')]);
    const r = await this.deps.client().concurryClaim(3, keys.instance(data.i), keys.caller(data.c), keys.reply(data.c), hostId, claimed, REPLY_TTL_MS);
    if (r === -1) {
      await this.dropInstanceKeys(data.i);
      return;
    }
    if (r !== 1) return;
    const inst = this.deps.newInstance(data);
    instances.set(data.i, inst);
    callers.watch(data.c, data.i);
    this.deps.beat();
    try {
      await inst.start();
      await inst.finished;
    } finally {
      instances.delete(data.i);
      callers.unwatch(data.c, data.i);
      this.deps.beat();
    }
  }

  /** Deletes an instance's keys (when its caller is gone and cannot). */
  async dropInstanceKeys(instanceId: string): Promise<void> {
    const client = this.deps.client();
    await obliterateQueue(this.deps.bullmq(), client, this.deps.keys, this.deps.keys.instanceQueue(instanceId));
    await client.del(this.deps.keys.instance(instanceId)).catch(() => {});
  }

  /** A BullMQ worker consuming one instance's call queue (its own blocking connection). */
  instanceWorker(instanceId: string, processor: (job: Job) => void): BullWorker {
    const w = new (this.deps.bullmq().Worker)(this.deps.keys.instanceQueue(instanceId), (job: Job) => new Promise<void>((resolve) => resolve(processor(job))), {
      connection: this.deps.client(),
      prefix: this.deps.keys.prefix,
      // Fetch ahead: jobs are numbered, HostedInstance runs them in order whatever order they come in.
      concurrency: INSTANCE_PREFETCH,
      skipVersionCheck: true,
      skipStalledCheck: true,
      lockDuration: this.deps.leaseMs,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    });
    w.on('error', (error) => {
      if (!this.deps.stopping()) this.deps.logOnce(`instance queue: ${redactSecrets(error.message)}`);
    });
    return w;
  }

  /** After a reconnect: instances whose registry vanished (Redis lost its data) are gone; end them. */
  async revalidate(): Promise<void> {
    for (const inst of [...this.deps.instances.values()]) {
      try {
        const owner = await this.deps.client().hget(this.deps.keys.instance(inst.id), 'host');
        if (owner !== this.deps.hostId) {
          this.deps.log(`instance ${inst.id} of ${inst.className} no longer exists in Redis; ending it`);
          void inst.stop(0, false);
        }
      } catch {
        /* try again on the next reconnect */
      }
    }
  }
}

/** Whether a placement job carries the four non-empty strings callers send. */
function isPlacementData(data: unknown): data is PlacementData {
  if (!data || typeof data !== 'object') return false;
  const d = data as Partial<Record<keyof PlacementData, unknown>>;
  return [d.i, d.c, d.cls, d.p].every((v) => typeof v === 'string' && v.length > 0);
}

/** Deletes a BullMQ queue and everything in it (best effort). */
export async function obliterateQueue(bullmq: typeof import('bullmq'), client: ScriptClient, keys: Keys, name: string): Promise<void> {
  const q = new bullmq.Queue(name, { connection: client, prefix: keys.prefix, skipVersionCheck: true, skipMetasUpdate: true });
  await q.obliterate({ force: true }).catch(() => {});
  await q.close().catch(() => {});
}
