/**
 * `concurry/distributed`: running distributed-mode hosts and reading their state. Its types name
 * bullmq and ioredis, so it needs them installed (`npm install bullmq ioredis`); the main entry
 * (`concurry`) does not, and `mode: 'distributed'` works from it without importing this entry.
 *
 * @packageDocumentation
 */
import { startHostWith, type DistributedHost, type HostOptions } from './modes/distributed/host.js';
import { TaskWorker } from './task/task-worker.js';

export { HostRefusedError, describeConnection, type Delivery, type ConnectionOption, type RedisConnectionOptions } from './modes/distributed/index.js';
export { distributedLimitStats, type DistributedTarget } from './modes/distributed/admin.js';
export type { HostOptions, DistributedHost } from './modes/distributed/host.js';

/** Starts a host; resolves once it takes placements. */
export function startHost(options: HostOptions): Promise<DistributedHost> {
  // The host builds TaskWorker like any exported class; it comes from here, the entry, since the
  // modes layer must not import task/ (it sits above the modes).
  return startHostWith(options, { TaskWorker });
}
