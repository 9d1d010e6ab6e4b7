/**
 * `concurry/distributed`: running distributed-mode hosts and reading their state. Its types name
 * bullmq and ioredis, so it needs them installed (`npm install bullmq ioredis`); the main entry
 * (`concurry`) does not, and `mode: 'distributed'` works from it without importing this entry.
 *
 * @packageDocumentation
 */
export { HostRefusedError, describeConnection, type Delivery, type ConnectionOption, type RedisConnectionOptions } from './modes/distributed/index.js';
export { distributedLimitStats, type DistributedTarget } from './modes/distributed/admin.js';
export { startHost, type HostOptions, type DistributedHost } from './modes/distributed/host.js';
