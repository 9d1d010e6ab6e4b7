/**
 * Every mode's transport, in one explicit table: what `mode` selects. Importing a mode module
 * registers nothing; this table is the only place a mode is plugged into the one call path.
 */
import type { Mode } from '../config/options.js';
import type { TransportFactory } from './transport.js';
import { asyncTransport, syncTransport } from './local.js';
import { threadTransport } from './thread.js';
import { processTransport } from './process.js';
import { distributedTransport } from './distributed/register.js';

const FACTORIES: Readonly<Record<Mode, TransportFactory>> = {
  sync: syncTransport,
  async: asyncTransport,
  thread: threadTransport,
  process: processTransport,
  distributed: distributedTransport,
};

/** The transport factory of `mode` (already checked to be one of MODES). */
export function transportFactory(mode: Mode): TransportFactory {
  return FACTORIES[mode];
}
