/**
 * Where Redis is, for distributed mode: the `connection` option (a `redis://` / `rediss://` URL or
 * ioredis-style options), with the password, username and TLS also taken from the environment.
 * Connection details are only ever shown through {@link describeConnection}, which hides secrets.
 */
import { ConfigError } from '../../errors.js';
import type { Redis as RedisClient, RedisOptions } from 'ioredis';

import type { ConnectionOption, RedisConnectionOptions } from './options.js';
// Defined apart so that the main entry's types never name ioredis (see options.ts).
export type { ConnectionOption, RedisConnectionOptions } from './options.js';

const URL_RE = /^rediss?:\/\//i;

/** Checks the `connection` option without ever echoing it (it may hold a password). */
export function checkConnection(value: unknown): ConnectionOption {
  if (typeof value === 'string') {
    if (!URL_RE.test(value)) {
      throw new ConfigError(
        `Invalid option 'connection': got a string that is not a redis:// or rediss:// URL; expected a Redis URL (redis://[user:password@]host:port[/db]) or an options object { host, port, password, tls, … }`,
      );
    }
    try {
      new URL(value);
    } catch {
      throw new ConfigError(`Invalid option 'connection': the Redis URL cannot be parsed; expected redis://[user:password@]host:port[/db]`);
    }
    return value;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      `Invalid option 'connection': got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}; expected a Redis URL or an options object { host, port, password, tls, … }`,
    );
  }
  const o = value as Record<string, unknown>;
  const field = (name: string, ok: boolean, expected: string) => {
    if (o[name] !== undefined && !ok) throw new ConfigError(`Invalid option 'connection.${name}': expected ${expected}`);
  };
  field('url', typeof o.url === 'string' && URL_RE.test(o.url), 'a redis:// or rediss:// URL');
  field('host', typeof o.host === 'string' && o.host.length > 0, 'a host name');
  field('port', typeof o.port === 'number' && Number.isInteger(o.port) && o.port > 0 && o.port < 65536, 'a port number');
  field('username', typeof o.username === 'string', 'a string');
  field('password', typeof o.password === 'string', 'a string');
  field('db', typeof o.db === 'number' && Number.isInteger(o.db) && o.db >= 0, 'an integer >= 0');
  field('tls', typeof o.tls === 'boolean' || (o.tls !== null && typeof o.tls === 'object'), 'true or TLS options');
  if (o.keyPrefix !== undefined) throw new ConfigError(`Invalid option 'connection.keyPrefix': use the 'prefix' option instead`);
  return value as RedisConnectionOptions;
}

/** The connection to use: the option, else CONCURRY_REDIS_URL / REDIS_URL, else localhost. */
export function connectionFromEnv(option: ConnectionOption | undefined, env: NodeJS.ProcessEnv = process.env): RedisConnectionOptions {
  const base: RedisConnectionOptions =
    option === undefined ? { url: env.CONCURRY_REDIS_URL || env.REDIS_URL || 'redis://127.0.0.1:6379' } : typeof option === 'string' ? { url: option } : { ...option };
  if (base.password === undefined && env.REDIS_PASSWORD && !urlHasPassword(base.url)) base.password = env.REDIS_PASSWORD;
  if (base.username === undefined && env.REDIS_USERNAME && !urlHasUser(base.url)) base.username = env.REDIS_USERNAME;
  if (base.tls === undefined && /^(1|true|yes)$/i.test(env.REDIS_TLS ?? '')) base.tls = true;
  return base;
}

function urlHasPassword(url: string | undefined): boolean {
  if (!url) return false;
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

function urlHasUser(url: string | undefined): boolean {
  if (!url) return false;
  try {
    return new URL(url).username !== '';
  } catch {
    return false;
  }
}

/** A printable description of a connection with every secret hidden: `redis://:***@host:6379/0`. */
export function describeConnection(conn: ConnectionOption | RedisConnectionOptions): string {
  const o: RedisConnectionOptions = typeof conn === 'string' ? { url: conn } : conn;
  let scheme = o.tls ? 'rediss' : 'redis';
  let host = o.host ?? '127.0.0.1';
  let port = o.port ?? 6379;
  let user = o.username ?? '';
  let hasPassword = o.password !== undefined;
  let db = o.db;
  if (o.url) {
    try {
      const u = new URL(o.url);
      if (u.protocol === 'rediss:') scheme = 'rediss';
      if (o.host === undefined && u.hostname) host = u.hostname;
      if (o.port === undefined && u.port) port = Number(u.port);
      if (o.username === undefined && u.username) user = decodeURIComponent(u.username);
      if (u.password) hasPassword = true;
      if (o.db === undefined && u.pathname.length > 1) db = Number(u.pathname.slice(1));
    } catch {
      return '(unparsable Redis URL)';
    }
  }
  const auth = user || hasPassword ? `${user}${hasPassword ? ':***' : ''}@` : '';
  return `${scheme}://${auth}${host}:${port}${db !== undefined ? `/${db}` : ''}`;
}

/** Hides anything that looks like a password in a URL inside free text (for error messages). */
export function redactSecrets(text: string): string {
  return text.replace(/(rediss?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

/** A stable key for sharing clients between handles with the same connection. */
export function connectionKey(conn: RedisConnectionOptions): string {
  return JSON.stringify(conn, Object.keys(conn).sort());
}

/** Options every concurry Redis client gets: commands wait through reconnects (BullMQ needs that). */
function ioredisOptions(conn: RedisConnectionOptions, name: string): { url?: string; options: RedisOptions } {
  const { url, tls, ...rest } = conn;
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    ...(rest as RedisOptions),
  };
  if (tls === true) options.tls = {};
  else if (tls && typeof tls === 'object') options.tls = tls;
  if (url && /^rediss:/i.test(url) && options.tls === undefined) options.tls = {};
  return { url, options };
}

type IoredisModule = { Redis: typeof import('ioredis').Redis };
let ioredisModule: Promise<IoredisModule> | undefined;

/** Loads ioredis (an optional peer dependency) with a clear error when it is missing. */
function loadIoredis(): Promise<IoredisModule> {
  ioredisModule ??= import('ioredis').then((m): IoredisModule => ({ Redis: m.Redis })).catch((error) => {
    ioredisModule = undefined;
    throw new ConfigError(`mode 'distributed' needs the packages 'bullmq' and 'ioredis': npm install bullmq ioredis (${(error as Error).message})`);
  });
  return ioredisModule;
}

let bullmqModule: Promise<typeof import('bullmq')> | undefined;

/** Loads BullMQ (an optional peer dependency) with a clear error when it is missing. */
export function loadBullmq(): Promise<typeof import('bullmq')> {
  bullmqModule ??= import('bullmq').catch((error) => {
    bullmqModule = undefined;
    throw new ConfigError(`mode 'distributed' needs the packages 'bullmq' and 'ioredis': npm install bullmq ioredis (${(error as Error).message})`);
  });
  return bullmqModule;
}

/** Opens a client. Errors are reported to `onError` (already redacted), never thrown at random. */
export async function createClient(conn: RedisConnectionOptions, name: string, onError?: (message: string) => void): Promise<RedisClient> {
  const { Redis } = await loadIoredis();
  const { url, options } = ioredisOptions(conn, name);
  const client = url ? new Redis(url, options) : new Redis(options);
  client.on('error', (error: Error) => onError?.(redactSecrets(error.message)));
  return client;
}

/** Keeps (or stops keeping) the process alive through this client's socket, also after reconnects. */
export function setClientRef(client: RedisClient, referenced: boolean): void {
  const c = client as unknown as { __concurryRef?: boolean; __concurryRefHooked?: boolean; stream?: { ref?: () => void; unref?: () => void } };
  c.__concurryRef = referenced;
  if (!c.__concurryRefHooked) {
    c.__concurryRefHooked = true;
    client.on('connect', () => {
      const s = (client as unknown as typeof c).stream;
      if (c.__concurryRef) s?.ref?.();
      else s?.unref?.();
    });
  }
  if (referenced) c.stream?.ref?.();
  else c.stream?.unref?.();
}

/** `promise`, or undefined after `ms` (for cleanup that must not hang while Redis is unreachable). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.catch(() => undefined),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
      timer.unref?.();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Resolves when `client` is ready. Rejects at once when Redis refuses the credentials, and after
 * `timeoutMs` when it cannot be reached (the client keeps trying in the background until closed).
 */
export function waitForReady(client: RedisClient, conn: RedisConnectionOptions, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let lastError = '';
    const done = (error?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onError = (error: Error) => {
      lastError = redactSecrets(error.message);
      if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|NOPERM/i.test(error.message)) {
        done(new ConfigError(`Redis at ${describeConnection(conn)} refused the credentials (${lastError}); set the password in the connection option or REDIS_PASSWORD`));
      }
    };
    const timer = setTimeout(
      () => done(new ConfigError(`Could not connect to Redis at ${describeConnection(conn)} within ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}`)),
      timeoutMs,
    );
    timer.unref?.();
    client.on('ready', onReady);
    client.on('error', onError);
  });
}
