/**
 * Process-wide and scoped defaults of worker options. It sits with the worker (not in config/)
 * because checking a default needs the whole option table, which lists every feature's options.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ConfigError } from '../errors.js';
import { BUILTIN_DEFAULTS, MODES, type Mode } from '../config/options.js';
import { show } from '../config/validate.js';
import { checkWorkerOptions } from './option-table.js';
import type { WorkerOptions } from './worker.js';

/** Option values that may be set as defaults (everything but `mode`). */
export type DefaultOptions = Record<string, unknown>;

/** Checked defaults, as stored. */
type CheckedDefaults = Partial<WorkerOptions>;

/** Overrides for all modes, plus per-mode sections: `{ numRetries: 2, thread: { maxConcurrency: 4 } }`. */
export type ConfigOverrides = DefaultOptions & Partial<Record<Mode, DefaultOptions>>;

function checkDefaults(values: unknown, where: string): CheckedDefaults {
  const checked = checkWorkerOptions(values, where);
  if ('mode' in checked) throw new ConfigError(`'mode' cannot be a default; give it in options()`);
  return checked;
}

function isMode(key: string): key is Mode {
  return (MODES as readonly string[]).includes(key);
}

function splitOverrides(overrides: ConfigOverrides): Scope {
  if (overrides === null || typeof overrides !== 'object') {
    throw new ConfigError(`Config overrides must be an object, got ${String(overrides)}`);
  }
  const all: Record<string, unknown> = {};
  const perMode: Partial<Record<Mode, CheckedDefaults>> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (isMode(key)) perMode[key] = checkDefaults(value, `${key} config option`);
    else all[key] = value;
  }
  return { all: checkDefaults(all, 'config option'), perMode };
}

/**
 * Process-wide defaults for worker options, with per-mode overrides. Options given to `options()`
 * always win over these.
 *
 * ```ts
 * globalConfig.set({ numRetries: 2, thread: { stopTimeout: 5000 } });
 * ```
 */
export const globalConfig = {
  defaults: {} as CheckedDefaults,
  modes: {} as Partial<Record<Mode, CheckedDefaults>>,

  /** Merges `overrides` into the global defaults (validated first; nothing changes on error). */
  set(overrides: ConfigOverrides): void {
    const { all, perMode } = splitOverrides(overrides);
    Object.assign(this.defaults, all);
    for (const mode of MODES) {
      if (perMode[mode]) this.modes[mode] = { ...this.modes[mode], ...perMode[mode] };
    }
  },

  /** Back to the built-in defaults. */
  reset(): void {
    this.defaults = {};
    this.modes = {};
  },

  /** The defaults a worker of `mode` starts from, including any `withConfig` scope. */
  resolved(mode: Mode): CheckedDefaults {
    const scoped = scopes.getStore();
    return {
      ...BUILTIN_DEFAULTS,
      ...this.defaults,
      ...this.modes[mode],
      ...scoped?.all,
      ...scoped?.perMode[mode],
    };
  },
};

interface Scope {
  all: CheckedDefaults;
  perMode: Partial<Record<Mode, CheckedDefaults>>;
}

const scopes = new AsyncLocalStorage<Scope>();

/**
 * Runs `fn` with `overrides` applied to the workers it creates, restoring them after — also when
 * `fn` throws or rejects. Scopes nest, and concurrent scopes never see each other's overrides.
 */
export function withConfig<R>(overrides: ConfigOverrides, fn: () => R): R {
  const { all, perMode } = splitOverrides(overrides);
  if (typeof fn !== 'function') throw new ConfigError(`withConfig(overrides, fn): fn must be a function, got ${show(fn)}`);
  const outer = scopes.getStore();
  const merged: Scope = { all: { ...outer?.all, ...all }, perMode: { ...outer?.perMode } };
  for (const mode of MODES) {
    if (perMode[mode]) merged.perMode[mode] = { ...merged.perMode[mode], ...perMode[mode] };
  }
  return scopes.run(merged, fn);
}
