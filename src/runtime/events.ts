/**
 * Events a handle reports through `on()` and on `node:diagnostics_channel`: the retry events are
 * raised inside the worker runtime (in every mode) and travel to the caller; the others are raised
 * on the caller's side (breaker, timeouts, hedges, fallbacks, crashes, limit waits).
 */

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

export function summarizeError(error: unknown): ErrorSummary {
  if (error !== null && typeof error === 'object') {
    const e = error as Record<string, unknown>;
    const summary: ErrorSummary = { name: String(e.name ?? 'Error'), message: String(e.message ?? '') };
    if (e.code !== undefined) summary.code = e.code;
    const status = e.status ?? e.statusCode ?? (e.response as any)?.status;
    if (status !== undefined) summary.status = status;
    return summary;
  }
  return { name: typeof error, message: String(error) };
}
