/**
 * A host watches the lease of every caller it hosts instances for, and ends the instances of a
 * caller that is gone (its process died without stopping them).
 */
import type { ScriptClient } from '../lua.js';
import { CALLER_LEASE_MS, type Keys } from '../wire.js';

export interface CallerWatchDeps {
  client(): ScriptClient;
  keys: Keys;
  /** Whether the host is shutting down (it then stops watching). */
  stopping(): boolean;
  log(line: string): void;
  /** Ends an instance of a caller that is gone, and deletes its keys. */
  endOrphan(instanceId: string): void;
}

interface Watch {
  timer?: NodeJS.Timeout;
  instances: Set<string>;
}

export class CallerWatch {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly deps: CallerWatchDeps) {}

  watch(callerId: string, instanceId: string): void {
    let w = this.watches.get(callerId);
    if (!w) {
      this.watches.set(callerId, (w = { instances: new Set() }));
      w.timer = setTimeout(() => void this.check(callerId), CALLER_LEASE_MS);
    }
    w.instances.add(instanceId);
  }

  unwatch(callerId: string, instanceId: string): void {
    const w = this.watches.get(callerId);
    if (!w) return;
    w.instances.delete(instanceId);
    if (w.instances.size === 0) {
      if (w.timer) clearTimeout(w.timer);
      this.watches.delete(callerId);
    }
  }

  /** Host shutdown: no more checks. */
  clear(): void {
    for (const w of this.watches.values()) if (w.timer) clearTimeout(w.timer);
    this.watches.clear();
  }

  private async check(callerId: string): Promise<void> {
    const w = this.watches.get(callerId);
    if (!w || this.deps.stopping()) return;
    const client = this.deps.client();
    let ttl: number;
    try {
      ttl = await client.pttl(this.deps.keys.caller(callerId));
    } catch {
      ttl = 1000;
    }
    if (this.watches.get(callerId) !== w) return;
    if (ttl === -2) {
      this.deps.log(`caller ${callerId} is gone; ending its ${w.instances.size} instance(s)`);
      for (const id of w.instances) this.deps.endOrphan(id);
      void client.del(this.deps.keys.reply(callerId)).catch(() => {});
      return;
    }
    w.timer = setTimeout(() => void this.check(callerId), (ttl > 0 ? ttl : CALLER_LEASE_MS) + 50);
  }
}
