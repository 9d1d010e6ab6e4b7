import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, FakeClock, Worker, type RuntimeEvent } from '../../src/index.js';
import { Counter } from '../fixtures/workers.js';

/** A quote service whose calls fail while `down` is set. */
class Quotes extends Worker {
  down = false;
  calls = 0;
  setDown(down: boolean): void {
    this.down = down;
  }
  price(symbol: string): string {
    this.calls++;
    if (this.down) throw new Error(`feed down for ${symbol}`);
    return `${symbol}@${this.calls}`;
  }
}

const handles: { stop(): Promise<void> }[] = [];
const track = <T extends { stop(): Promise<void> }>(h: T): T => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

function quotes(options: Record<string, unknown>) {
  const clock = new FakeClock();
  const q = track(Quotes.options({ mode: 'async', clock, ...options }).init());
  const events: RuntimeEvent[] = [];
  q.on('fallback', (e) => events.push(e));
  return { q, clock, events };
}

describe('lastGood: fallback to the last successful result', () => {
  it('answers a failed call with the last good result for the same arguments, marked stale', async () => {
    const { q, clock, events } = quotes({ lastGood: { ttl: 60_000 } });
    expect(await q.price('ACME')).toBe('ACME@1');
    await q.setDown(true);
    await clock.advance(1500);
    expect(await q.price('ACME')).toBe('ACME@1');
    expect(events).toEqual([{ type: 'fallback', methodName: 'price', error: { name: 'Error', message: 'feed down for ACME' }, stale: true, ageMs: 1500 }]);
    expect(q.stats().methods.price).toMatchObject({ calls: 2, successes: 1, failures: 1, fallbacks: 0, staleFallbacks: 1 });
    // No result for other arguments: the error stands.
    await expect(q.price('OTHER')).rejects.toThrow('feed down for OTHER');
  });

  it('a result older than the TTL is not used', async () => {
    const { q, clock } = quotes({ lastGood: { ttl: 1000 } });
    await q.price('ACME');
    await q.setDown(true);
    await clock.advance(1001);
    await expect(q.price('ACME')).rejects.toThrow('feed down for ACME');
  });

  it('the key function decides what counts as the same call', async () => {
    const { q } = quotes({ lastGood: { ttl: 60_000, key: (method: string) => method } });
    await q.price('ACME');
    await q.setDown(true);
    expect(await q.price('OTHER')).toBe('ACME@1');
  });

  it('the cache is bounded: the least recently used result goes first', async () => {
    const { q } = quotes({ lastGood: { ttl: 60_000, max: 2, methods: ['price'] } });
    await q.price('A');
    await q.price('B');
    await q.price('C');
    await q.setDown(true);
    await expect(q.price('A')).rejects.toThrow('feed down for A');
    expect(await q.price('B')).toBe('B@2');
    expect(await q.price('C')).toBe('C@3');
  });

  it('a fallback function comes first; the last good result answers when it fails too', async () => {
    let fallbackUp = true;
    const { q } = quotes({
      lastGood: { ttl: 60_000 },
      fallback: () => {
        if (!fallbackUp) throw new Error('backup feed down too');
        return 'from backup';
      },
    });
    await q.price('ACME');
    await q.setDown(true);
    expect(await q.price('ACME')).toBe('from backup');
    fallbackUp = false;
    expect(await q.price('ACME')).toBe('ACME@1');
    expect(q.stats().methods.price).toMatchObject({ fallbacks: 1, staleFallbacks: 1 });
    // No last good result for this one: the fallback's error is the answer.
    await expect(q.price('NEW')).rejects.toThrow('backup feed down too');
  });

  it('the last good result beats a fixed fallback value, which answers when there is none', async () => {
    const { q } = quotes({ lastGood: { ttl: 60_000 }, fallback: 'n/a' });
    await q.price('ACME');
    await q.setDown(true);
    expect(await q.price('ACME')).toBe('ACME@1');
    expect(await q.price('NEW')).toBe('n/a');
  });

  it('methods limits which methods it applies to', async () => {
    const { q } = quotes({ lastGood: { ttl: 60_000, methods: ['setDown'] } });
    await q.price('ACME');
    await q.setDown(true);
    await expect(q.price('ACME')).rejects.toThrow('feed down for ACME');
  });

  it('thread mode: the cache lives on the caller side and holds what the thread returned', async () => {
    // One key for every call, to show the result crosses methods: it is the caller's copy.
    const c = track(Counter.options({ mode: 'thread', lastGood: { ttl: 60_000, key: () => 'all' } }).init());
    expect(await c.increment(5)).toBe(5);
    expect(await c.fail('boom')).toBe(5);
    expect(c.stats().methods.fail).toMatchObject({ failures: 1, staleFallbacks: 1 });
  });

  it('rejects bad options with ConfigError naming the option', () => {
    expect(() => Quotes.options({ mode: 'async', lastGood: 5 as any })).toThrow(/'lastGood'/);
    expect(() => Quotes.options({ mode: 'async', lastGood: {} as any })).toThrow(/'lastGood.ttl'/);
    expect(() => Quotes.options({ mode: 'async', lastGood: { ttl: 0 } })).toThrow(/'lastGood.ttl'/);
    expect(() => Quotes.options({ mode: 'async', lastGood: { ttl: 10, max: 0 } })).toThrow(/'lastGood.max'/);
    expect(() => Quotes.options({ mode: 'async', lastGood: { ttl: 10, key: 'x' as any } })).toThrow(/'lastGood.key'/);
    expect(() => Quotes.options({ mode: 'async', lastGood: { ttl: 10, methods: 'price' as any } })).toThrow(/'lastGood.methods'/);
    expect(() => Quotes.options({ mode: 'async', lastGood: { ttl: 10, tll: 3 } as any })).toThrow(ConfigError);
  });
});
