/**
 * `distributed` mode: worker instances live on hosts (`npx concurry host …`) on any machine that
 * reaches the same Redis; calls, results and placements travel through BullMQ queues. See
 * docs/distributed.md.
 */
import './register.js';

export { HostRefusedError } from './security.js';
export { describeConnection } from './connection.js';
export type { ConnectionOption, RedisConnectionOptions, Delivery } from './options.js';
