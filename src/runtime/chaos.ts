/**
 * Fault injection for users' own tests (and ours): the `chaos` option makes a worker's methods
 * fail, stall or return invalid output at seeded rates. It runs inside the worker, around each
 * attempt, so retries, validators, timeouts and breakers see the faults exactly as they would
 * see real ones — in every mode. Options are plain data, so they travel to threads and processes.
 */
import { ChaosError } from '../errors.js';
import { seededRandom, sleep, systemClock, type Clock } from '../clock.js';

/** Options of the `chaos` worker option. Rates are probabilities in [0, 1] per attempt. */
export interface ChaosOptions {
  /** Seed of the fault sequence (each worker draws the same sequence). Default 1. */
  seed?: number;
  /** Attempts that throw ChaosError instead of running the method. */
  errorRate?: number;
  /** `status` of the injected error; default 503, which `transientErrors` retries. */
  errorStatus?: number;
  errorMessage?: string;
  /** Attempts delayed by `latencyMs` before the method runs. */
  latencyRate?: number;
  /** A delay in ms, or a [min, max] range drawn uniformly. Default [50, 200]. */
  latencyMs?: number | [number, number];
  /** Attempts whose result is replaced by `invalidValue`. */
  invalidRate?: number;
  /** What an invalid output looks like. Default `{ chaos: 'invalid-output' }`. */
  invalidValue?: unknown;
  /** Only these methods get faults; default all. */
  methods?: string[];
}

/** Wraps one method so its attempts get faults; returns `fn` unchanged when chaos skips it. */
export function withChaos(
  methodName: string,
  fn: (...args: unknown[]) => unknown,
  options: ChaosOptions,
  random: () => number,
  clock: Clock = systemClock,
): (...args: unknown[]) => unknown {
  if (options.methods && !options.methods.includes(methodName)) return fn;
  const errorRate = options.errorRate ?? 0;
  const latencyRate = options.latencyRate ?? 0;
  const invalidRate = options.invalidRate ?? 0;
  const [minMs, maxMs] = typeof options.latencyMs === 'number' ? [options.latencyMs, options.latencyMs] : (options.latencyMs ?? [50, 200]);
  const invalid = 'invalidValue' in options ? options.invalidValue : { chaos: 'invalid-output' };
  return async function chaotic(this: unknown, ...args: unknown[]) {
    // Draw all three every attempt so one rate's setting never shifts another's sequence.
    const fail = random() < errorRate;
    const stall = random() < latencyRate;
    const corrupt = random() < invalidRate;
    const delay = minMs + random() * (maxMs - minMs);
    if (stall) await sleep(delay, clock);
    if (fail) {
      const error = new ChaosError(options.errorMessage ?? `Injected fault in ${methodName}`);
      error.status = options.errorStatus ?? 503;
      throw error;
    }
    const out = await fn.apply(this, args);
    return corrupt ? structuredClone(invalid) : out;
  };
}

/** The random source a runtime's chaos draws from. */
export function chaosRandom(options: ChaosOptions): () => number {
  return seededRandom(options.seed ?? 1);
}
