import { describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../src/observability/latency.js';

describe('LatencyRecorder', () => {
  it('measures every call up to 2048, then one in 8', () => {
    const r = new LatencyRecorder();
    let sampled = 0;
    for (let i = 0; i < 2048; i++) if (r.sampleNext()) sampled++;
    expect(sampled).toBe(2048);
    sampled = 0;
    for (let i = 0; i < 8000; i++) if (r.sampleNext()) sampled++;
    expect(sampled).toBe(1000);
  });

  it('percentiles come from the most recent 2048 measurements', () => {
    const r = new LatencyRecorder();
    for (let i = 0; i < 2048; i++) r.record(1000);
    for (let i = 1; i <= 2048; i++) r.record(i);
    const s = r.summary();
    expect(s.count).toBe(4096);
    expect(s.samples).toBe(2048);
    expect(s.p50).toBe(1024);
    expect(s.p99).toBe(Math.ceil(0.99 * 2048));
    expect(s.max).toBe(2048);
  });
});
