/** `thread` mode: one dedicated worker_thread per worker instance. */
import type { ResourceLimits } from 'node:worker_threads';
import { registerOption } from '../config/options.js';
import { checkNumber, configError, rejectUnknownKeys } from '../config/validate.js';
import { registerMode } from './registry.js';
import { IpcTransport } from './ipc/ipc-transport.js';
import { threadChannel } from './ipc/channel.js';

const RESOURCE_LIMIT_KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

/**
 * `resourceLimits` (thread mode): Node's per-thread heap and stack caps. A thread that runs out of
 * memory dies like any crash: its calls fail with WorkerCrashedError and a pool replaces it.
 */
registerOption('resourceLimits', (value) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError('resourceLimits', value, `an object with any of ${RESOURCE_LIMIT_KEYS.join(', ')} (MB)`);
  }
  rejectUnknownKeys('resourceLimits option', value, RESOURCE_LIMIT_KEYS);
  for (const [key, mb] of Object.entries(value)) checkNumber(`resourceLimits.${key}`, mb, 1);
  return value;
});

registerMode('thread', (init) => new IpcTransport(init, threadChannel(init.options.resourceLimits as ResourceLimits | undefined)));
