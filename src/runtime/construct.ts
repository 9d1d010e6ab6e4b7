/**
 * Hands `this.limits` and the runtime to a Worker instance during construction, so they are already
 * there inside the constructor. A module-level slot is enough: construction is synchronous.
 */
let pending: { limits: unknown; runtime: unknown } | undefined;

/** A class whose instances serve calls; its constructor arguments are only known to its caller. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any[] is the one parameter list every class (typed constructor arguments included) is assignable to and that can still be called with the caller's arguments
export type WorkerClass = new (...args: any[]) => object;

export function constructWorker(
  workerClass: WorkerClass,
  ctorArgs: unknown[],
  limits: unknown,
  runtime: unknown,
): object {
  pending = { limits, runtime };
  try {
    const instance = new workerClass(...ctorArgs);
    // Classes that don't extend Worker still get `limits` and `context`.
    if (!('limits' in instance)) Object.defineProperty(instance, 'limits', { value: limits, enumerable: false });
    if (!(runtimeKey in instance)) Object.defineProperty(instance, runtimeKey, { value: runtime, enumerable: false });
    return instance;
  } finally {
    pending = undefined;
  }
}

export const runtimeKey = Symbol.for('concurry.runtime');

/** Called by the Worker base constructor. */
export function takeConstructionSlot(): { limits: unknown; runtime: unknown } | undefined {
  return pending;
}
