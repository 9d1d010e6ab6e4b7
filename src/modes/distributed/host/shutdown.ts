/**
 * A host's graceful stop: no more placements, every fetched call finishes (up to drainTimeoutMs),
 * callers are told, and everything the host holds in Redis is removed. Every Redis step is bounded:
 * a host must be able to stop while Redis is unreachable.
 */
import type { Worker as BullWorker } from 'bullmq';
import type { Redis as RedisClient } from 'ioredis';
import { within } from '../connection.js';
import type { ScriptClient } from '../lua.js';
import type { HostMessage, Keys } from '../wire.js';
import type { CallerWatch } from './callers.js';
import type { HostedInstance } from './hosted-instance.js';
import type { Placements } from './placements.js';

export interface HostParts {
  readonly id: string;
  readonly keys: Keys;
  readonly cmd: ScriptClient;
  readonly sub: RedisClient;
  readonly bullmq: typeof import('bullmq');
  readonly instances: ReadonlyMap<string, HostedInstance>;
  readonly placements: Placements;
  readonly callers: CallerWatch;
  /** Limit sets the host's instances share; each holds timers and subscriptions. */
  readonly limitSets: Iterable<{ dispose(): void }>;
  post(callerId: string, msg: HostMessage): void;
  flush(): Promise<unknown>;
  log(line: string): void;
}

export async function shutdownHost(host: HostParts, drainMs: number): Promise<void> {
  host.log(`host ${host.id} stopping: draining ${host.instances.size} instance(s)`);
  host.placements.pause();
  const callers = new Set<string>();
  await Promise.all(
    [...host.instances.values()].map((inst) => {
      callers.add(inst.callerId);
      return inst.drain(drainMs);
    }),
  );
  for (const c of callers) host.post(c, { t: 'host-exit', h: host.id });
  await within(host.flush(), 3000);
  await within(Promise.all([host.cmd.del(host.keys.host(host.id)), host.cmd.srem(host.keys.hosts, host.id)]), 3000);
  for (const inst of host.instances.values()) inst.end();
  host.callers.clear();
  await within(Promise.all(host.placements.workers.map((w: BullWorker) => w.close(true))), 3000);
  const own = new host.bullmq.Queue(host.keys.hostQueue(host.id), { connection: host.cmd, prefix: host.keys.prefix, skipVersionCheck: true, skipMetasUpdate: true });
  await within(own.obliterate({ force: true }), 3000);
  await within(own.close(), 1000);
  for (const s of host.limitSets) s.dispose();
  host.sub.disconnect();
  if ((await within(host.cmd.quit(), 1000)) === undefined) host.cmd.disconnect();
  host.log(`host ${host.id} stopped`);
}
