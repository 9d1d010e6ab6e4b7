/**
 * Hidden-class priming for objects made once per call (see docs/decisions/warm-paths.md, "Hidden
 * classes"). V8 records, per field of a hidden class, whether it has only ever held one value,
 * small integers, or objects of one shape, and optimized code relies on that. A call's objects
 * change some fields only when the call settles, so the first settlement of a process used to
 * change the record and throw away the send path's optimized code, compiled moments before by the
 * first batch. Storing a small integer and two differently shaped objects into those fields of one
 * throwaway instance, when the module loads, leaves them at "any value, mutable": nothing a call
 * stores later can change them again.
 */

const SHAPES: readonly unknown[] = [0, {}, []];

/**
 * Generalizes `fields` of `throwaway` (an instance made only for this, at module load). Names are
 * strings because some fields are private; a name the object lacks throws, so a renamed field can't
 * silently stop being primed.
 */
export function generalizeFields(throwaway: object, fields: readonly string[]): void {
  const target = throwaway as Record<string, unknown>;
  for (const field of fields) {
    if (!Object.hasOwn(target, field)) throw new Error(`generalizeFields: ${throwaway.constructor.name} has no field ${field}`);
    for (const value of SHAPES) target[field] = value;
  }
}
