/**
 * How fast an adapted value followed a provider that halved its limit and restored it — measured
 * the same way by the fake-clock simulation and the real llm-batch run.
 */

/** One sample: the adapted rate and the provider's true rate at `t` ms. */
export interface FollowPoint {
  t: number;
  value: number;
  truth: number;
}

/**
 * ms after `halvedAt` until the value was within 1.1× the halved limit, and after `restoredAt`
 * until it was back to 0.85× the restored one (Infinity if never).
 */
export function followTimes(points: readonly FollowPoint[], halvedAt: number, restoredAt: number): { down: number; up: number } {
  const after = (from: number, ok: (p: FollowPoint) => boolean) => {
    const hit = points.find((p) => p.t >= from && ok(p));
    return hit ? hit.t - from : Infinity;
  };
  return { down: after(halvedAt, (p) => p.value <= p.truth * 1.1), up: after(restoredAt, (p) => p.value >= p.truth * 0.85) };
}

/** "1.3 s", or "never". */
export const fmtSeconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'never');
