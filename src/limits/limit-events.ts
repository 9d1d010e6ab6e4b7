/**
 * Limit waits as events: wraps the limits a handle's workers draw on so an acquire that had to
 * wait reports `{ type: 'limit-wait', keys, waitedMs }`. One wrapper on the caller's side serves
 * every mode, since thread/process workers' acquisitions are served by the caller's limits too.
 */
import type { Acquisition } from './acquisition.js';
import type { LimitsLike } from './index.js';
import type { RuntimeEvent } from '../observability/events.js';

const OBSERVED = Symbol('concurry.observedLimits');

interface Observation {
  inner: LimitsLike;
  emit: (event: RuntimeEvent) => void;
  observed: () => boolean;
}

const observationOf = (limits: LimitsLike) => (limits as { [OBSERVED]?: Observation })[OBSERVED];

/** The limits inside an {@link observeLimitWaits} wrapper (or `limits` itself). */
export function underlyingLimits(limits: LimitsLike): LimitsLike {
  return observationOf(limits)?.inner ?? limits;
}

/** `other` reporting its waits the way the wrapper `limits` does (e.g. one set of a wrapped pool). */
export function observedLike(limits: LimitsLike, other: LimitsLike): LimitsLike {
  const o = observationOf(limits);
  return o ? observeLimitWaits(other, o.emit, o.observed) : other;
}

/** Waits shorter than this are scheduling noise, not limit pressure. */
const MIN_REPORTED_WAIT_MS = 1;

export function observeLimitWaits(
  limits: LimitsLike,
  emit: (event: RuntimeEvent) => void,
  /** Whether anyone listens now: without listeners an acquire costs nothing extra. */
  observed: () => boolean,
): LimitsLike {
  const inner = limits;
  const wrapper: LimitsLike = {
    acquire(requested, options) {
      if (!observed()) return inner.acquire(requested, options);
      const started = performance.now();
      return inner.acquire(requested, options).then((acq: Acquisition) => {
        const waitedMs = performance.now() - started;
        if (waitedMs >= MIN_REPORTED_WAIT_MS) emit({ type: 'limit-wait', keys: [...acq.amounts.keys()], waitedMs });
        return acq;
      });
    },
    tryAcquire: (requested) => inner.tryAcquire(requested),
    run: (requested, fn) => inner.run(requested, fn),
    stats: () => inner.stats(),
    needsUpdate: (key) => inner.needsUpdate(key),
    get config() {
      return inner.config;
    },
  };
  Object.defineProperty(wrapper, OBSERVED, { value: { inner: limits, emit, observed } satisfies Observation });
  return wrapper;
}
