/**
 * The host's subscriber connection: the bus channel, on which callers ask an instance to stop or
 * to cancel a call, and the channels Redis limits announce released capacity on.
 */
import type { Redis as RedisClient } from 'ioredis';
import type { BusMessage } from '../wire.js';

/** What the bus asks of a hosted instance. */
export interface BusTarget {
  stop(timeout: number, report: boolean): Promise<void>;
  cancel(callId: number): void;
}

export class HostBus {
  private readonly channelListeners = new Map<string, Set<() => void>>();

  constructor(
    private readonly sub: RedisClient,
    private readonly busChannel: string,
    private readonly instance: (id: string) => BusTarget | undefined,
  ) {
    sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
  }

  /** Starts listening to the bus. */
  async open(): Promise<void> {
    await this.sub.subscribe(this.busChannel);
  }

  /** Calls `fn` on every message of `channel` (subscribing once per channel). */
  async subscribe(channel: string, fn: () => void): Promise<void> {
    let set = this.channelListeners.get(channel);
    if (!set) {
      this.channelListeners.set(channel, (set = new Set()));
      set.add(fn);
      await this.sub.subscribe(channel);
      return;
    }
    set.add(fn);
  }

  private onMessage(channel: string, message: string): void {
    if (channel === this.busChannel) return this.onBusMessage(message);
    const listeners = this.channelListeners.get(channel);
    if (listeners) for (const fn of listeners) fn();
  }

  private onBusMessage(message: string): void {
    let msg: BusMessage;
    try {
      msg = JSON.parse(message) as BusMessage;
    } catch {
      return;
    }
    // Anyone who can publish on this Redis can send anything: only the two shapes callers send act.
    const id = (msg as { i?: unknown } | null)?.i;
    const inst = typeof id === 'string' ? this.instance(id) : undefined;
    if (!inst) return;
    if (msg.t === 'stop') void inst.stop(typeof msg.timeout === 'number' && msg.timeout >= 0 ? msg.timeout : 0, true);
    else if (msg.t === 'cancel' && typeof msg.c === 'number') inst.cancel(msg.c);
  }
}
