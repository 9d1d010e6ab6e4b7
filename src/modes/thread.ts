/** `thread` mode: one dedicated worker_thread per worker instance. */
import { checkNumber, configError, rejectUnknownKeys } from '../config/validate.js';
import type { OptionChecks } from '../config/options.js';
import type { ResourceLimitsOption, TransportFactory } from './transport.js';
import { IpcTransport } from './ipc/ipc-transport.js';
import { threadChannel } from './ipc/channel.js';

const RESOURCE_LIMIT_KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

function checkResourceLimits(value: unknown): ResourceLimitsOption {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError('resourceLimits', value, `an object with any of ${RESOURCE_LIMIT_KEYS.join(', ')} (MB)`);
  }
  rejectUnknownKeys('resourceLimits option', value, RESOURCE_LIMIT_KEYS);
  for (const [key, mb] of Object.entries(value)) checkNumber(`resourceLimits.${key}`, mb, 1);
  return value;
}

/** Checks of the options only thread mode reads (`resourceLimits`, see {@link ResourceLimitsOption}). */
export const THREAD_OPTION_CHECKS: OptionChecks = { resourceLimits: checkResourceLimits };

export const threadTransport: TransportFactory = (init) => new IpcTransport(init, threadChannel(init.options.resourceLimits));
