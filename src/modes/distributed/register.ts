/**
 * Makes `mode: 'distributed'` available from the main entry: its option checks and transport factory.
 * bullmq and ioredis (optional peers) are only imported when a distributed worker first connects,
 * and this module's declarations name neither, so projects without them installed still
 * type-check. The host, admin helpers and the rest live behind `concurry/distributed`.
 */
import type { OptionChecks } from '../../config/options.js';
import { checkOneOf, configError } from '../../config/validate.js';
import type { TransportFactory } from '../transport.js';
import { checkConnection } from './connection.js';
import { DistributedTransport } from './transport.js';

/** Checks of the options only the distributed mode reads; listed in src/worker/option-table.ts. */
export const DISTRIBUTED_OPTION_CHECKS: OptionChecks = {
  connection: checkConnection,
  prefix: (v) => {
    if (typeof v !== 'string' || !/^[\w.:{}-]{1,64}$/.test(v)) {
      throw configError('prefix', v, "a key prefix of 1 to 64 letters, digits, '_', '-', '.', ':', '{' or '}' (default 'concurry')");
    }
    return v;
  },
  delivery: (v) => checkOneOf('delivery', v, ['at-least-once', 'at-most-once']),
};

export const distributedTransport: TransportFactory = (init) => new DistributedTransport(init);

/** The options only `mode: 'distributed'` reads (part of WorkerOptions). */
export interface DistributedOptions {
  /**
   * `mode: 'distributed'` only: the Redis the hosts use — a `redis://` / `rediss://` URL or
   * options `{ host, port, username, password, db, tls }`. Default: CONCURRY_REDIS_URL or
   * REDIS_URL, else redis://127.0.0.1:6379; REDIS_PASSWORD, REDIS_USERNAME and REDIS_TLS=1 fill
   * in what the option leaves out. Never printed with its password.
   */
  connection?: import('./options.js').ConnectionOption;
  /** `mode: 'distributed'` only: key prefix shared with the hosts (`--prefix`). Default 'concurry'. */
  prefix?: string;
  /**
   * `mode: 'distributed'` only: what happens to the calls of a host that dies.
   * 'at-least-once' (default): they run again on another host (a call may run twice).
   * 'at-most-once': those that may have reached the host reject with WorkerCrashedError.
   */
  delivery?: import('./options.js').Delivery;
}

// The distributed transport reads these from `init.options`: typed there by declaration merging,
// since the transport contract sits below this folder and cannot import it.
declare module '../transport.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- a merge that only adds a heritage clause is empty by nature
  interface TransportOptions extends DistributedOptions {}
}
