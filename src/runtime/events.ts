/** Events raised inside a worker runtime and delivered to the caller's handle, in every mode. */

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
  | { type: 'validation-failed'; methodName: string; attempt: number; reason: string };

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
