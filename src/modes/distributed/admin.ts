/** Reading what distributed workers share, from the caller's side. */
import { ConfigError } from '../../errors.js';
import { LimitPool } from '../../limits/limit-pool.js';
import { LimitSet } from '../../limits/limit-set.js';
import { connectionFromEnv, createClient, waitForReady, type ConnectionOption } from './connection.js';
import { withScripts } from './lua.js';
import { describeLimits, readLimitStats } from './redis-limits.js';
import { Keys } from './wire.js';

/** Where to read from: the same `connection` and `prefix` the handles use. */
export interface DistributedTarget {
  connection?: ConnectionOption;
  prefix?: string;
}

/**
 * What distributed workers have used of `limits` (the LimitSet or LimitPool given to their
 * handles), read from Redis: per key `{ kind, available, capacity, utilization, … }` and `waiting`
 * (a LimitPool gives `{ sets: [...] }`). `limits.stats()` on the caller only knows local use.
 */
export async function distributedLimitStats(limits: LimitSet | LimitPool, target: DistributedTarget = {}): Promise<Record<string, unknown>> {
  if (!(limits instanceof LimitSet) && !(limits instanceof LimitPool)) {
    throw new ConfigError('distributedLimitStats() takes the LimitSet or LimitPool given to distributed handles');
  }
  const description = describeLimits(limits);
  if (!description) return { waiting: 0 };
  const keys = new Keys(target.prefix ?? 'concurry');
  const conn = connectionFromEnv(target.connection);
  const client = withScripts(await createClient(conn, 'concurry:stats'));
  try {
    // Commands wait through reconnects: without this a wrong password or an unreachable Redis would hang here.
    await waitForReady(client, conn);
    if (description.type === 'set') return await readLimitStats(client, keys, description.set);
    return { sets: await Promise.all(description.sets.map((s) => readLimitStats(client, keys, s))) };
  } finally {
    client.disconnect();
  }
}
