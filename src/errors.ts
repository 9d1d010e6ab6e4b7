/**
 * Every error class this package throws. Each has a stable `name` and keeps `instanceof` in every
 * mode: the thread/process transport re-creates them by name on the caller's side.
 */

/** Base class of this package's errors. */
export class ConcurryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false, configurable: true, writable: true });
  }
}

/** A bad option or argument, raised at `options()` / constructor time. */
export class ConfigError extends TypeError {
  constructor(message: string) {
    super(message);
    Object.defineProperty(this, 'name', { value: 'ConfigError', enumerable: false, configurable: true, writable: true });
  }
}

/** A call that was queued or running when its worker stopped, or a future that was cancelled. */
export class CancelledError extends ConcurryError {}

/** A call made after `stop()`. */
export class WorkerStoppedError extends ConcurryError {
  constructor(message = 'Worker is stopped') {
    super(message);
  }
}

/** The worker's constructor threw; `cause` is the constructor's error. */
export class WorkerInitError extends ConcurryError {}

/** A wait (future result, limit acquisition, per-call timeout) ran out of time. */
export class TimeoutError extends ConcurryError {}

/** An operation was aborted through an `AbortSignal`. */
export class AbortError extends ConcurryError {}

/** The thread or process running the call died before the call finished. */
export class WorkerCrashedError extends ConcurryError {}

/** A circuit breaker is open: the call was rejected without reaching a worker. */
export class CircuitOpenError extends ConcurryError {}

/** Every attempt produced an output that `retryUntil` rejected. */
export class RetryValidationError extends ConcurryError {
  readonly attempts: number;
  readonly allResults: unknown[];
  readonly validationErrors: string[];
  readonly methodName: string;

  constructor(fields: { attempts: number; allResults: unknown[]; validationErrors: string[]; methodName: string }) {
    const last = fields.validationErrors[fields.validationErrors.length - 1] ?? 'validation failed';
    super(
      `${fields.methodName}: output failed validation on all ${fields.attempts} attempt(s); last reason: ${last}`,
    );
    this.attempts = fields.attempts;
    this.allResults = fields.allResults;
    this.validationErrors = fields.validationErrors;
    this.methodName = fields.methodName;
  }
}

/** An acquisition was used wrongly: updated after release, or a RateLimit never updated before release. */
export class LimitUsageError extends ConcurryError {}

/** A fault injected by the `chaos` option. Carries `status` (default 503) so retry predicates treat it like a real one. */
export class ChaosError extends ConcurryError {
  declare status: number;
}

/** Classes the transport can re-create by `name` on the caller's side. */
// Constructors of different shapes (RetryValidationError takes fields, not a message); the decoder
// only reads `prototype`, and its table of extra classes has this same type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- `never[]` would fit here but not in serialize/errors.ts's `any[]` class table
export const errorClassesByName: Record<string, new (...args: any[]) => Error> = {
  ConcurryError,
  ConfigError,
  CancelledError,
  WorkerStoppedError,
  WorkerInitError,
  TimeoutError,
  AbortError,
  WorkerCrashedError,
  CircuitOpenError,
  RetryValidationError,
  LimitUsageError,
  ChaosError,
};

/** The error for a call to a method the worker class doesn't have (raised by the handle and by the worker runtime alike). */
export function unknownMethod(className: string, method: string, known: string[]): TypeError {
  return new ConfigError(
    `${className} has no public method '${method}'; its methods are: ${known.length ? known.join(', ') : '(none)'}`,
  );
}
