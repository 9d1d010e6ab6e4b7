/**
 * Writes to Redis what a host reads, the way an attacker with access to that Redis would: raw
 * placement jobs and call batches pushed with BullMQ, replies read straight off the reply list.
 * No concurry caller is involved, so nothing the caller checks protects the host.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Keys, pack, TAG_MESSAGES, unpack, type HostMessage, type WireCall } from '../../src/modes/distributed/wire.js';
import { decodeError } from '../../src/serialize/errors.js';

/**
 * Source text that, if a host ever compiled and ran it, leaves a trace: a global the fixture's
 * probe() reports, and a marker file the test checks.
 */
export function smuggledSource(marker: string): string {
  return `function smuggled() { globalThis.__concurrySmuggled = 'ran'; process.getBuiltinModule('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); return 'ran'; }`;
}

/** Whether smuggled code ran in any host (it wrote the marker file). */
export function codeRan(marker: string): boolean {
  return existsSync(marker);
}

/** A placement's outcome, as the host reported it. */
export type Outcome = { ready: true } | { ready: false; error: Error };

export class Attacker {
  readonly keys: Keys;
  private readonly cmd: Redis;
  private readonly queues = new Map<string, Queue>();

  constructor(
    readonly url: string,
    prefix: string,
  ) {
    this.keys = new Keys(prefix);
    this.cmd = new Redis(url, { maxRetriesPerRequest: null });
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = new Queue(name, { connection: this.cmd, prefix: this.keys.prefix, skipVersionCheck: true })));
    return q;
  }

  /**
   * Places an instance of `cls` with this raw payload (anything: it is packed as given) and returns
   * its ids. `data` replaces the job's data entirely when given (for malformed jobs). Goes to the
   * class's shared placement queue, or to one host's own queue when `hostId` is given (a host
   * takes from its own queue whatever class is asked for).
   */
  async place(cls: string, payload: unknown, data?: unknown, hostId?: string): Promise<{ instance: string; caller: string }> {
    const instance = randomUUID();
    const caller = randomUUID();
    await this.cmd.set(this.keys.caller(caller), '1', 'PX', 60_000);
    await this.cmd.hset(this.keys.instance(instance), 'caller', caller, 'cls', cls);
    const job = data ?? { i: instance, c: caller, cls, p: pack(payload).toString('base64') };
    await this.queue(hostId ? this.keys.hostQueue(hostId) : this.keys.classQueue(cls)).add('place', job, { removeOnComplete: true, removeOnFail: true });
    return { instance, caller };
  }

  /** Pushes one batch of calls (`seq` numbers batches from 1) onto an instance's call queue; `raw` replaces the job data. */
  async call(instance: string, seq: number, calls: WireCall[] | unknown, raw?: unknown): Promise<void> {
    const data = raw ?? { s: seq, c: pack(calls).toString('base64') };
    await this.queue(this.keys.instanceQueue(instance)).add('c', data, { removeOnComplete: true, removeOnFail: true });
  }

  private readonly inbox = new Map<string, HostMessage[]>();

  /** Reads the caller's reply list into its inbox until `done(inbox)` (or the timeout: then an Error). */
  private async waitFor(caller: string, done: (inbox: HostMessage[]) => boolean, timeoutMs = 15_000): Promise<HostMessage[]> {
    let inbox = this.inbox.get(caller);
    if (!inbox) this.inbox.set(caller, (inbox = []));
    const deadline = Date.now() + timeoutMs;
    while (!done(inbox)) {
      if (Date.now() > deadline) throw new Error(`no answer from the host within ${timeoutMs} ms (got ${JSON.stringify(inbox.map((m) => m.t))})`);
      const element = await this.cmd.lpopBuffer(this.keys.reply(caller));
      if (!element) await new Promise((r) => setTimeout(r, 10));
      else if (element[0] === TAG_MESSAGES) inbox.push(...unpack<HostMessage[]>(element.subarray(1)));
    }
    return inbox;
  }

  /** Waits for ready / init-error of a placement. */
  async outcome(caller: string, timeoutMs?: number): Promise<Outcome> {
    const inbox = await this.waitFor(caller, (m) => m.some((x) => x.t === 'ready' || x.t === 'init-error'), timeoutMs);
    const m = inbox.find((x) => x.t === 'ready' || x.t === 'init-error')!;
    return m.t === 'ready' ? { ready: true } : { ready: false, error: decodeError((m as { e: unknown }).e) as Error };
  }

  /** Results of calls `ids`, by id: [ok, value or decoded error]. */
  async results(caller: string, ids: number[], timeoutMs?: number): Promise<Map<number, [boolean, unknown]>> {
    const out = new Map<number, [boolean, unknown]>();
    const collect = (inbox: HostMessage[]) => {
      for (const m of inbox) if (m.t === 'r') for (const [id, ok, v] of m.b) out.set(id, [ok, ok ? v : decodeError(v)]);
      return ids.every((id) => out.has(id));
    };
    await this.waitFor(caller, collect, timeoutMs);
    return out;
  }

  /** Ends an instance the way its caller would (stop on the bus). */
  async stop(instance: string): Promise<void> {
    await this.cmd.publish(this.keys.bus, JSON.stringify({ t: 'stop', i: instance, timeout: 0 }));
  }

  /** Publishes anything on the hosts' bus. */
  async publish(message: string): Promise<void> {
    await this.cmd.publish(this.keys.bus, message);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.cmd.disconnect();
  }
}
