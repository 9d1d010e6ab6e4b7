import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CircuitOpenError, FakeClock, RetryValidationError } from '../../src/index.js';
import { CircuitBreakers, type StateChange } from '../../src/resilience/circuit-breaker.js';

function breakers(options: ConstructorParameters<typeof CircuitBreakers>[0], clock = new FakeClock()) {
  const changes: StateChange[] = [];
  const set = new CircuitBreakers(options, clock, (c) => changes.push(c));
  return { set, breaker: set.for('m', []), clock, changes };
}

const boom = Object.assign(new Error('upstream 503'), { status: 503 });

describe('CircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures and rejects at once with CircuitOpenError', async () => {
    const { breaker, changes } = breakers({ failureThreshold: 3, recoveryTimeout: 1000 });
    for (let i = 0; i < 2; i++) {
      expect(breaker.admit()).toEqual({ probe: false });
      breaker.record(boom, true, false);
    }
    expect(breaker.state).toBe('closed');
    breaker.admit();
    breaker.record(boom, true, false);
    expect(breaker.state).toBe('open');
    const rejected = breaker.admit();
    expect(rejected).toBeInstanceOf(CircuitOpenError);
    expect((rejected as Error).message).toBe("Circuit 'default' is open after 3 consecutive failures; next probe in 1000 ms");
    expect(changes).toEqual([{ key: 'default', from: 'closed', to: 'open' }]);
  });

  it('a success resets the consecutive count', async () => {
    const { breaker } = breakers({ failureThreshold: 2 });
    breaker.record(boom, true, false);
    breaker.record(undefined, false, false);
    breaker.record(boom, true, false);
    expect(breaker.state).toBe('closed');
  });

  it('goes half-open after recoveryTimeout, lets halfOpenMaxCalls probes through, closes on a probe success', async () => {
    const { breaker, clock, changes } = breakers({ failureThreshold: 1, recoveryTimeout: 500, halfOpenMaxCalls: 2 });
    breaker.record(boom, true, false);
    await clock.advance(499);
    expect(breaker.admit()).toBeInstanceOf(CircuitOpenError);
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.admit()).toEqual({ probe: true });
    expect(breaker.admit()).toEqual({ probe: true });
    const third = breaker.admit();
    expect(third).toBeInstanceOf(CircuitOpenError);
    expect((third as Error).message).toBe("Circuit 'default' is half-open and its 2 probe call(s) are in flight");
    breaker.record(undefined, false, true);
    expect(breaker.state).toBe('closed');
    expect(changes.map((c) => c.to)).toEqual(['open', 'half-open', 'closed']);
  });

  it('a failed probe reopens for another recoveryTimeout', async () => {
    const { breaker, clock } = breakers({ failureThreshold: 1, recoveryTimeout: 100 });
    breaker.record(boom, true, false);
    await clock.advance(100);
    expect(breaker.admit()).toEqual({ probe: true });
    breaker.record(boom, true, true);
    expect(breaker.state).toBe('open');
    await clock.advance(99);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('validation failures, 4xx, and cancellations do not count; a neutral probe frees its slot', async () => {
    const { breaker, clock } = breakers({ failureThreshold: 1, recoveryTimeout: 10 });
    breaker.record(new RetryValidationError({ attempts: 1, allResults: [1], validationErrors: ['x'], methodName: 'm' }), true, false);
    breaker.record(Object.assign(new Error('bad request'), { status: 400 }), true, false);
    breaker.record(Object.assign(new Error('slow down'), { status: 429 }), true, false);
    expect(breaker.state).toBe('closed');
    breaker.record(boom, true, false);
    await clock.advance(10);
    expect(breaker.admit()).toEqual({ probe: true });
    breaker.record(Object.assign(new Error('not found'), { status: 404 }), true, true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.admit()).toEqual({ probe: true });
  });

  it('isFailure decides what counts', async () => {
    const { breaker } = breakers({ failureThreshold: 1, isFailure: (e) => (e as { status?: number }).status === 429 });
    breaker.record(boom, true, false);
    expect(breaker.state).toBe('closed');
    breaker.record(Object.assign(new Error('slow down'), { status: 429 }), true, false);
    expect(breaker.state).toBe('open');
  });

  it('ratio mode: opens when the failure ratio over the window reaches the threshold with enough calls', async () => {
    const { breaker, clock } = breakers({ failureRateThreshold: 0.5, windowMs: 1000, minimumThroughput: 10, recoveryTimeout: 100 });
    // 4 failures in 8 calls: ratio 0.5 but below minimum throughput
    for (let i = 0; i < 8; i++) breaker.record(i % 2 ? boom : undefined, i % 2 === 1, false);
    expect(breaker.state).toBe('closed');
    breaker.record(undefined, false, false);
    expect(breaker.state).toBe('closed'); // 4/9
    breaker.record(boom, true, false); // 5/10
    expect(breaker.state).toBe('open');
    expect(breaker.snapshot()).toMatchObject({ state: 'open', windowCalls: 10, windowFailures: 5, opened: 1 });
  });

  it('ratio mode: outcomes that slid out of the window no longer count', async () => {
    const { breaker, clock } = breakers({ failureRateThreshold: 0.5, windowMs: 1000, minimumThroughput: 4 });
    for (let i = 0; i < 3; i++) breaker.record(boom, true, false);
    await clock.advance(1500);
    breaker.record(boom, true, false);
    expect(breaker.snapshot()).toMatchObject({ windowCalls: 1, windowFailures: 1, state: 'closed' });
  });

  it('keyed breakers are independent', async () => {
    const clock = new FakeClock();
    const set = new CircuitBreakers({ failureThreshold: 1, key: (_m, args) => String(args[0]) }, clock, () => {});
    set.for('m', ['openai']).record(boom, true, false);
    expect(set.state('openai')).toBe('open');
    expect(set.state('anthropic')).toBe('closed');
    expect(set.for('m', ['anthropic']).admit()).toEqual({ probe: false });
    expect(set.snapshot().map((s) => [s.key, s.state])).toEqual([
      ['openai', 'open'],
      ['anthropic', 'closed'],
    ]);
  });

  it('property: transitions are legal, open never admits before recoveryTimeout, probes never exceed halfOpenMaxCalls', async () => {
    type Op = { kind: 'call' } | { kind: 'finish'; ok: boolean } | { kind: 'advance'; ms: number };
    const op = fc.oneof(
      fc.constant<Op>({ kind: 'call' }),
      fc.boolean().map<Op>((ok) => ({ kind: 'finish', ok })),
      fc.integer({ min: 0, max: 400 }).map<Op>((ms) => ({ kind: 'advance', ms })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(op, { maxLength: 200 }),
        async (threshold, maxProbes, ops) => {
          const { breaker, clock, changes } = breakers({ failureThreshold: threshold, recoveryTimeout: 300, halfOpenMaxCalls: maxProbes });
          const inFlight: boolean[] = []; // probe flags of admitted calls
          let openedAt = -1;
          let consecutive = 0;
          for (const o of ops) {
            if (o.kind === 'advance') await clock.advance(o.ms);
            else if (o.kind === 'call') {
              const before = breaker.state;
              const r = breaker.admit();
              if (r instanceof CircuitOpenError) {
                expect(before === 'open' || inFlight.filter(Boolean).length >= maxProbes).toBe(true);
              } else {
                if (before === 'open') expect(clock.now() - openedAt).toBeGreaterThanOrEqual(300);
                inFlight.push(r.probe);
                expect(inFlight.filter(Boolean).length).toBeLessThanOrEqual(maxProbes);
              }
            } else if (inFlight.length > 0) {
              const probe = inFlight.shift()!;
              const wasClosed = breaker.state === 'closed';
              breaker.record(o.ok ? undefined : boom, !o.ok, probe);
              if (wasClosed && !probe) {
                consecutive = o.ok ? 0 : consecutive + 1;
                if (consecutive >= threshold) expect(breaker.state).toBe('open');
              }
              if (breaker.state === 'open' && openedAt !== clock.now() && changes.at(-1)?.to === 'open') openedAt = clock.now();
              if (breaker.state !== 'closed') consecutive = 0;
            }
          }
          const legal = new Set(['closed>open', 'open>half-open', 'half-open>closed', 'half-open>open']);
          for (const c of changes) expect(legal.has(`${c.from}>${c.to}`)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
