/**
 * What travels through Redis in distributed mode, and the names of the keys it lives under.
 *
 * Values (arguments, results, constructor arguments) are encoded with `v8.serialize` — the
 * structured-clone format thread and process modes use — so Maps, Sets, Dates, BigInts, typed
 * arrays and `undefined` survive. Decoding it never runs code. Functions are not values here:
 * TaskWorker functions and retry predicates travel as source text and are only rebuilt by hosts
 * started with `--allow-source-functions` (see security.ts).
 */
import v8 from 'node:v8';
import type { RuntimeEvent } from '../../observability/events.js';

/** Encodes a value for Redis (throws DataCloneError for functions, symbols, …). */
export function pack(value: unknown): Buffer {
  return v8.serialize(value);
}

/** Decodes {@link pack}'s output. */
export function unpack<T = unknown>(buffer: Buffer): T {
  return v8.deserialize(buffer) as T;
}

/** [id, method, args] */
export type WireCall = [number, string, unknown[]];
/** [id, ok, value or encoded error] */
export type WireResult = [number, boolean, unknown];

/** Messages a host sends to a caller (through the caller's reply list). */
export type HostMessage =
  | { t: 'ready'; i: string }
  | { t: 'init-error'; i: string; e: unknown }
  | { t: 'r'; i: string; b: WireResult[] }
  | { t: 'e'; i: string; ev: RuntimeEvent }
  | { t: 'stopped'; i: string }
  /** The host is shutting down (gracefully): every call it fetched has its result already. */
  | { t: 'host-exit'; h: string };

/** Messages a caller publishes to the hosts (on the bus channel). */
export type BusMessage = { t: 'stop'; i: string; timeout: number } | { t: 'cancel'; i: string; c: number };

/** How long a caller stays "alive" for hosts without renewing its lease key, ms; hosts end the instances of a caller whose lease ran out. */
export const CALLER_LEASE_MS = 15_000;
/** A reply list a host wrote expires this long after its last write (its caller is gone by then), ms. */
export const REPLY_TTL_MS = 60_000;

/** Reply-list element tags: 'C' = claimed (written by a Lua script), 'M' = packed HostMessage[]. */
export const TAG_CLAIMED = 0x43;
export const TAG_MESSAGES = 0x4d;

/** What a placement (control) job carries: everything a host needs to build the instance. */
export interface PlacementData {
  /** Instance id; also names the instance's call queue. */
  i: string;
  /** Caller id (whose reply list gets the results). */
  c: string;
  /** Class (export) name. */
  cls: string;
  /** base64 of pack(PlacementPayload). */
  p: string;
}

export interface PlacementPayload {
  ctorArgs: unknown[];
  /** encodeOptions(runtimeOptions), with static-method references resolved on the host. */
  runtimeOptions: unknown;
  workerIndex: number;
  limits?: LimitsDescription;
  budget?: { id: string; ratio: number; minPerSecond: number };
}

/** A Limit, as a host needs it. */
export interface LimitDescription {
  kind: 'rate' | 'call' | 'resource';
  key: string;
  capacity: number;
  window: number;
  algorithm: string;
  needsUpdate: boolean;
}

export interface LimitSetDescription {
  id: string;
  limits: LimitDescription[];
  config: Record<string, unknown>;
}

export type LimitsDescription =
  | { type: 'set'; set: LimitSetDescription }
  | { type: 'pool'; sets: LimitSetDescription[]; loadBalancing: 'round-robin' | 'random' };

/** Key names. Every key of a deployment starts with its prefix. */
export class Keys {
  constructor(readonly prefix: string) {}
  /** BullMQ queue of one instance's calls (under BullMQ's `prefix` = ours). */
  instanceQueue(id: string): string {
    return `i-${id}`;
  }
  /** BullMQ queue of placements aimed at one host. */
  hostQueue(hostId: string): string {
    return `ctl-h-${hostId}`;
  }
  /** BullMQ queue of placements any host serving `cls` may take (used when no host is up). */
  classQueue(cls: string): string {
    return `ctl-c-${cls.replace(/[^\w.-]/g, '_')}`;
  }
  instance(id: string): string {
    return `${this.prefix}:inst:${id}`;
  }
  reply(callerId: string): string {
    return `${this.prefix}:reply:${callerId}`;
  }
  caller(callerId: string): string {
    return `${this.prefix}:caller:${callerId}`;
  }
  host(hostId: string): string {
    return `${this.prefix}:host:${hostId}`;
  }
  get hosts(): string {
    return `${this.prefix}:hosts`;
  }
  get bus(): string {
    return `${this.prefix}:bus`;
  }
  budget(id: string): string {
    return `${this.prefix}:budget:{${id}}`;
  }
  /** Keys of a limit set share a hash tag, so the scripts also work on Redis Cluster. */
  limitSet(id: string): { q: string; qexp: string; h: string; hexp: string; seq: string; channel: string; state: (i: number) => string; log: (i: number) => string } {
    const base = `${this.prefix}:lim:{${id}}`;
    return {
      q: `${base}:q`,
      qexp: `${base}:qexp`,
      h: `${base}:h`,
      hexp: `${base}:hexp`,
      seq: `${base}:seq`,
      channel: `${base}:ch`,
      state: (i) => `${base}:s${i}`,
      log: (i) => `${base}:l${i}`,
    };
  }
}

/** Host info kept under Keys.host(id) while the host lives (no secrets). */
export interface HostInfo {
  id: string;
  name: string;
  pid: number;
  hostname: string;
  classes: string[];
  capacity: number;
  hosted: number;
  leaseMs: number;
  allowSourceFunctions: boolean;
}
