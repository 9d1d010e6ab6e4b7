/**
 * Events a handle reports through `on()` and on `node:diagnostics_channel`: the retry events are
 * raised inside the worker runtime (in every mode) and travel to the caller; the others are raised
 * on the caller's side (breaker, timeouts, hedges, fallbacks, crashes, limit waits).
 */
import { readProperty, safeString } from '../serialize/errors.js';

/** A short, cloneable description of an error, for events. */
export interface ErrorSummary {
  name: string;
  message: string;
  code?: unknown;
  status?: unknown;
}

export type RuntimeEvent =
  | { type: 'retry'; methodName: string; attempt: number; delayMs: number; error: ErrorSummary }
  | { type: 'retry-success'; methodName: string; attempts: number }
  | { type: 'retry-exhausted'; methodName: string; attempts: number; error: ErrorSummary }
  | { type: 'validation-failed'; methodName: string; attempt: number; reason: string }
  | { type: 'circuit-state'; key: string; from: 'closed' | 'open' | 'half-open'; to: 'closed' | 'open' | 'half-open' }
  | { type: 'circuit-rejected'; methodName: string; key: string }
  | { type: 'timeout'; methodName: string; timeoutMs: number }
  | { type: 'worker-terminated'; methodName: string; reason: string }
  | { type: 'hedge'; methodName: string; hedge: number }
  | { type: 'hedge-win'; methodName: string; hedge: number }
  | { type: 'fallback'; methodName: string; error: ErrorSummary; stale?: true; ageMs?: number }
  | { type: 'crash'; workerIndex: number; error: ErrorSummary }
  | { type: 'limit-wait'; keys: string[]; waitedMs: number };

/** Names of the events a handle can subscribe to with `on()`. */
export type RuntimeEventType = RuntimeEvent['type'];

/** Every {@link RuntimeEventType}, for checking `on()`'s argument (the compiler checks the list is complete). */
export const RUNTIME_EVENT_TYPES = Object.keys({
  retry: 1,
  'retry-success': 1,
  'retry-exhausted': 1,
  'validation-failed': 1,
  'circuit-state': 1,
  'circuit-rejected': 1,
  timeout: 1,
  'worker-terminated': 1,
  hedge: 1,
  'hedge-win': 1,
  fallback: 1,
  crash: 1,
  'limit-wait': 1,
} satisfies Record<RuntimeEventType, 1>) as RuntimeEventType[];

/**
 * Summarizes any thrown value. Never throws (getters and Proxy traps may), and the summary is
 * always cloneable: events cross thread and process boundaries.
 */
export function summarizeError(error: unknown): ErrorSummary {
  if (error !== null && typeof error === 'object') {
    const name = readProperty(error, 'name');
    const message = readProperty(error, 'message');
    const summary: ErrorSummary = { name: name === undefined ? 'Error' : safeString(name), message: message === undefined ? '' : safeString(message) };
    const code = readProperty(error, 'code');
    if (code !== undefined) summary.code = primitiveOrString(code);
    const response = readProperty(error, 'response');
    const status =
      readProperty(error, 'status') ??
      readProperty(error, 'statusCode') ??
      (response !== null && typeof response === 'object' ? readProperty(response, 'status') : undefined);
    if (status !== undefined) summary.status = primitiveOrString(status);
    return summary;
  }
  return { name: typeof error, message: safeString(error) };
}

function primitiveOrString(value: unknown): unknown {
  return value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol') ? value : safeString(value);
}
