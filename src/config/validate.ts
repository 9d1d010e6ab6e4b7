import { ConfigError } from '../errors.js';

/** Renders a value for an error message. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  try {
    const s = JSON.stringify(value);
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** A ConfigError in the standard form: option, bad value, what is allowed. */
export function configError(option: string, value: unknown, allowed: string): ConfigError {
  return new ConfigError(`Invalid option '${option}': got ${show(value)}; expected ${allowed}`);
}

export function checkInteger(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(option, value, `an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}`);
  }
  return value;
}

export function checkNumber(option: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw configError(option, value, `a number ${max === Infinity ? `>= ${min}` : `from ${min} to ${max}`}`);
  }
  return value;
}

export function checkBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw configError(option, value, 'true or false');
  return value;
}

export function checkOneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw configError(option, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

/** The closest of `candidates` to `name` (edit distance), when it is close enough to be a typo. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** Rejects keys of `record` that are not in `known`, suggesting the nearest one. */
export function rejectUnknownKeys(what: string, record: object, known: Iterable<string>): void {
  const knownSet = new Set(known);
  for (const key of Object.keys(record)) {
    if (knownSet.has(key)) continue;
    const hint = nearest(key, knownSet);
    throw new ConfigError(
      `Unknown ${what} '${key}'${hint ? ` — did you mean '${hint}'?` : ''} Known: ${[...knownSet].join(', ')}`,
    );
  }
}

/**
 * A duration in ms given to a public call (`stop({ timeout })`, `result({ timeout })`, …): a number
 * >= 0, `Infinity` meaning no limit. `undefined` passes through (the caller's default applies).
 */
export function checkDuration(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw configError(option, value, 'a number of ms >= 0 (Infinity = no limit)');
  }
  return value;
}

/** The options argument of a public call: an object or undefined (then `{}`). */
export function checkOptionsArgument<T extends object>(call: string, value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${call}: options must be an object, got ${show(value)}`);
  }
  return value;
}

/** An injected clock: an object with now(), setTimeout() and clearTimeout(). */
export function checkClock<T>(option: string, value: T): T {
  const ok =
    value !== null && typeof value === 'object' && ['now', 'setTimeout', 'clearTimeout'].every((k) => typeof (value as Record<string, unknown>)[k] === 'function');
  if (!ok) throw configError(option, value, 'an object with now(), setTimeout() and clearTimeout() (e.g. systemClock or a FakeClock)');
  return value;
}

/** An injected source of randomness: a function returning a number in [0, 1). */
export function checkRandom<T>(option: string, value: T): T {
  if (typeof value !== 'function') throw configError(option, value, 'a function returning a number in [0, 1)');
  return value;
}

/** A plain record option (metadata such as a LimitSet's `config`). */
export function checkRecord(option: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configError(option, value, 'an object');
  return value as Record<string, unknown>;
}
