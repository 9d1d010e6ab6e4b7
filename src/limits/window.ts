import { configError } from '../config/validate.js';

/** Named windows, in ms. */
export const NAMED_WINDOWS = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type NamedWindow = keyof typeof NAMED_WINDOWS;

/** A window in whole ms, from ms or a name. */
export function parseWindow(option: string, value: unknown): number {
  if (typeof value === 'string' && value in NAMED_WINDOWS) return NAMED_WINDOWS[value as NamedWindow];
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw configError(option, value, `a whole number of ms > 0 or one of 'second', 'minute', 'hour', 'day'`);
}

export function parseCapacity(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw configError(option, value, 'an integer > 0');
  return value;
}
