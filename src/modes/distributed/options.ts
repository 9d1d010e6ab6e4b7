/**
 * The option types of distributed mode, in a module of their own that names neither bullmq nor
 * ioredis: the main entry's declarations reach this file, and a project without those optional
 * peers installed must still type-check with `skipLibCheck: false`.
 */

/** Redis connection options accepted by the `connection` option (a subset of ioredis's). */
export interface RedisConnectionOptions {
  /** A `redis://` or `rediss://` (TLS) URL; the other fields override its parts. */
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  /** TLS options (`true` = TLS with the system's CAs), as for `tls.connect()`. */
  tls?: boolean | Record<string, unknown>;
  /** Any other ioredis option (timeouts, family, …). */
  [option: string]: unknown;
}

/** The `connection` option: a URL or options. */
export type ConnectionOption = string | RedisConnectionOptions;

/**
 * What happens to the calls of a host that dies: 'at-least-once' runs them again on another host,
 * 'at-most-once' rejects those that may have reached it with WorkerCrashedError.
 */
export type Delivery = 'at-least-once' | 'at-most-once';
