/**
 * One placement of a distributed instance, on the caller's side: placing it (a job on a control
 * queue — the least loaded live host serving the class, or the class's shared queue when none is
 * up), sending it numbered batches of calls, telling after a loss which calls never left Redis,
 * and removing its keys.
 */
import type { Job, Queue as BullQueue } from 'bullmq';
import type { CallerClient, ClientTransport } from './caller.js';
import { within } from './connection.js';
import type { PlacementData } from './wire.js';

/** Bound of each Redis step of a stop or a drop, and the extra time a host gets after the stop timeout to say it stopped, ms. */
export const STOP_GRACE_MS = 2000;

export class Placement {
  readonly id = crypto.randomUUID();
  hostId?: string;
  ctlQueueName = '';
  queue!: BullQueue;
  /** Call ids of each job added to the instance queue (to tell delivered from waiting calls). */
  readonly jobs = new Map<string, number[]>();
  /** Number of the next job: the host runs jobs in this order, whatever order it fetches them in. */
  private nextSeq = 1;
  gone = false;

  /**
   * Places an instance of `className` for `owner`. `adopt` is told the placement as soon as it is
   * routed, before the host can answer: its first reply may come before the control job is added.
   */
  static async place(c: CallerClient, className: string, payload: string, owner: ClientTransport, adopt: (p: Placement) => void): Promise<Placement> {
    const p = new Placement();
    p.hostId = await c.pickHost(className, p.id);
    p.ctlQueueName = p.hostId ? c.keys.hostQueue(p.hostId) : c.keys.classQueue(className);
    p.queue = c.queue(c.keys.instanceQueue(p.id));
    c.route(p.id, owner);
    adopt(p);
    await c.cmd.hset(c.keys.instance(p.id), 'caller', c.id, 'cls', className);
    const data: PlacementData = { i: p.id, c: c.id, cls: className, p: payload };
    await c.ctlQueue(p.ctlQueueName).add('place', data, { jobId: p.id, removeOnComplete: true, removeOnFail: true });
    return p;
  }

  /** Adds one batch of calls (`encoded`, ids `callIds`) as the next numbered job. */
  send(encoded: Buffer, callIds: number[]): Promise<void> {
    const seq = this.nextSeq++;
    return this.queue.add('c', { s: seq, c: encoded.toString('base64') }).then((job: Job) => {
      this.jobs.set(String(job.id), callIds);
    });
  }

  /**
   * After a loss, the calls still waiting in the instance queue (they never reached a host). Reads
   * nothing when Redis cannot say: every sent call then counts as delivered.
   */
  async waitingCalls(): Promise<Set<number>> {
    const waiting = new Set<number>();
    try {
      await this.queue.pause();
      for (const job of await this.queue.getWaiting()) for (const id of this.jobs.get(String(job.id)) ?? []) waiting.add(id);
    } catch {
      /* nothing readable: treat every sent call as delivered */
    }
    return waiting;
  }

  /** Removes the placement's keys: its control job, its call queue, its registry entry. */
  async drop(c: CallerClient): Promise<void> {
    if (this.gone) return;
    this.gone = true;
    c.unroute(this.id);
    // A job locked by a host that is finishing it cannot be removed: the host removes it on completion.
    if (this.ctlQueueName) await within(c.ctlQueue(this.ctlQueueName).remove(this.id), STOP_GRACE_MS);
    if (this.queue) {
      await within(this.queue.obliterate({ force: true }), STOP_GRACE_MS);
      await within(this.queue.close(), STOP_GRACE_MS);
    }
    await within(c.cmd.del(c.keys.instance(this.id)), STOP_GRACE_MS);
  }
}
