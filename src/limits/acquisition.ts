/** What an acquire() gives back: the amounts held, the usage report, and the release. */
import { LimitUsageError } from '../errors.js';

export { LimitUsageError };

const unknownUpdateKeysWarned = new Set<string>();

/** The set-side operations an acquisition needs (kept small so a remote proxy can stand in). */
export interface AcquisitionOwner {
  /** Gives back `amounts`; `used` says what rate limits really consumed (absent = all of it). */
  giveBack(amounts: ReadonlyMap<string, number>, used: ReadonlyMap<string, number> | undefined): void;
  needsUpdate(key: string): boolean;
}

/** Options of {@link Acquisition.release}. */
export interface ReleaseOptions {
  /** Release without raising for missing updates (un-updated rate amounts count as fully used). */
  force?: boolean;
}

/** The error of a RateLimit released without update(), naming the keys and the fix. */
function missingUpdateError(missing: readonly string[]): LimitUsageError {
  return new LimitUsageError(
    `Acquisition released without update() for rate limit(s): ${missing.join(', ')} — call acq.update({ ${missing.map((k) => `${k}: used`).join(', ')} }) before releasing (everything was released anyway)`,
  );
}

export class Acquisition {
  /**
   * Set while a worker attempt holds this acquisition: a missing update() goes here instead of
   * being thrown, and the attempt raises it only if it completes. Disposal cannot tell whether its
   * block threw (`Symbol.asyncDispose` gets no argument), so throwing from it would wrap a 429 in a
   * SuppressedError and hide it from retries; the attempt knows how it ended.
   * @internal
   */
  deferMissingUpdate?: (error: LimitUsageError) => void;
  /** What update() reported, by key; made on the first update (most acquisitions never get one). */
  private used?: Map<string, number>;
  private isReleased = false;
  private configCopy?: Record<string, unknown>;

  constructor(
    private readonly owner: AcquisitionOwner,
    /** Amount held per key. */
    readonly amounts: ReadonlyMap<string, number>,
    /** The set's config; this acquisition hands out its own copy. */
    private readonly setConfig: Record<string, unknown>,
  ) {}

  /** A copy of the set's config (for a LimitPool: of the set it picked), made when first read. */
  get config(): Record<string, unknown> {
    return (this.configCopy ??= { ...this.setConfig });
  }

  get released(): boolean {
    return this.isReleased;
  }

  /** The amounts requested, by key. */
  get requested(): Record<string, number> {
    return Object.fromEntries(this.amounts);
  }

  /**
   * Reports what was really used, by key (calls may repeat; the last value wins). Usage above the
   * requested amount is allowed but warns; unknown keys warn; negative usage throws.
   */
  update(usage: Record<string, number>): this {
    if (this.isReleased) throw new LimitUsageError('Cannot update an acquisition that was already released');
    for (const [key, value] of Object.entries(usage)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new RangeError(`update(): usage for '${key}' must be a number >= 0, got ${String(value)}`);
      }
      const requested = this.amounts.get(key);
      if (requested === undefined) {
        // Once per key: a loop updating a key its set lacks would otherwise warn on every call.
        if (!unknownUpdateKeysWarned.has(key)) {
          unknownUpdateKeysWarned.add(key);
          process.emitWarning(`update(): '${key}' was not acquired by this acquisition; ignored`, { code: 'CONCURRY_LIMIT_UNKNOWN_KEY' });
        }
        continue;
      }
      if (value > requested) {
        process.emitWarning(`update(): used ${value} of '${key}' but acquired only ${requested}`, { code: 'CONCURRY_LIMIT_OVERUSE' });
      }
      (this.used ??= new Map()).set(key, value);
    }
    return this;
  }

  /**
   * Gives everything back (idempotent). A RateLimit that was never updated raises LimitUsageError —
   * after everything else was released, so nothing stays held. Inside a worker method the error is
   * raised when the attempt completes instead, and not at all when the method threw: its own error
   * propagates unchanged (what was requested counts as used).
   */
  release(options: ReleaseOptions = {}): void {
    if (this.isReleased) return;
    this.isReleased = true;
    let missing: string[] | undefined;
    for (const key of this.amounts.keys()) {
      if (this.owner.needsUpdate(key) && !this.used?.has(key)) (missing ??= []).push(key);
    }
    this.owner.giveBack(this.amounts, this.used);
    if (missing && !options.force) {
      const error = missingUpdateError(missing);
      if (!this.deferMissingUpdate) throw error;
      this.deferMissingUpdate(error);
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }

  /** As {@link release}; a missing-update error rejects the returned Promise (thrown inside its executor). */
  [Symbol.asyncDispose](): Promise<void> {
    return new Promise<void>((resolve) => {
      this.release();
      resolve();
    });
  }
}
