/**
 * Hidden-class priming for objects made once per call (see docs/decisions/warm-paths.md, "Hidden
 * classes"). V8 records, per field of a hidden class, whether it has only ever held one value
 * (const), small integers, or objects of one shape, and optimized code relies on that. A call's
 * objects change some fields only when the call settles, so the first settlement of a process
 * used to change the record and throw away the send path's optimized code, compiled moments before
 * by the first batch. Stores into those fields of one throwaway instance, when the module loads,
 * give them their final shape first.
 */

const ANY_VALUES: readonly unknown[] = [0, {}, []];

/** Which fields to prime, by what they hold once calls run. */
export interface FieldsToPrime {
  /** Fields that come to hold values of any kind: left as "any value, mutable". */
  any?: readonly string[];
  /** Fields that only ever hold small integers, rewritten later: left as "small integer, mutable". */
  smallIntegers?: readonly string[];
}

/**
 * Primes the fields of `throwaway`, an instance made only for this at module load. Names are
 * strings because some fields are private; a name the object lacks throws, so a renamed field
 * can't silently stop being primed.
 */
export function primeFields(throwaway: object, { any = [], smallIntegers = [] }: FieldsToPrime): void {
  const target = throwaway as Record<string, unknown>;
  const check = (field: string) => {
    if (!Object.hasOwn(target, field)) throw new Error(`primeFields: ${throwaway.constructor.name} has no field ${field}`);
  };
  for (const field of any) {
    check(field);
    for (const value of ANY_VALUES) target[field] = value;
  }
  for (const field of smallIntegers) {
    check(field);
    target[field] = 1;
    target[field] = 0;
  }
}
