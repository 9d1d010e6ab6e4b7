/**
 * The fault soak at CI size (a few thousand calls per mode); `npm run bench -- soak` runs it with
 * 100 000. See fault-soak.ts for what is injected and what each figure means.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from './fault-soak.js';

describe('fault soak', () => {
  it.each([
    ['thread', 6000, [1000, 2500]],
    ['process', 4000, [1000, 2000]],
  ] as const)('%s pool, %i calls with errors, kills, timeouts and cancels: nothing lost, hung, wrong or run twice', async (mode, calls, killEvery) => {
    const r = await runSoak({ mode, calls, killEvery: [...killEvery], seed: 22 });
    expect({ hung: r.hung, lost: r.lost, wrong: r.wrong, duplicates: r.duplicates, servedAfter: r.servedAfter }).toEqual({
      hung: 0,
      lost: 0,
      wrong: 0,
      duplicates: 0,
      servedAfter: true,
    });
    expect(r.kills).toBeGreaterThanOrEqual(2);
    expect(r.replacements).toBeGreaterThanOrEqual(1);
    expect(r.retriedOk).toBeGreaterThan(0);
    expect(r.timeouts).toBeGreaterThan(0);
    expect(r.cancelled).toBeGreaterThan(0);
    // Thread workers know exactly which calls started; a process worker SIGKILLed in a flood of short
    // calls may have marked up to 63 more as started (started-marker.ts).
    expect(r.crashFailuresNeverRan).toBeLessThanOrEqual(mode === 'thread' ? 0 : 63 * Math.ceil(r.kills / 2));
    expect(r.heapEndMb - r.heapStartMb).toBeLessThan(30);
  }, 240_000);
});
