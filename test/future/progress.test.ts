/** Progress output (issue 18, item 7): fits the terminal, plain lines off a TTY, a bar of your own. */
import { describe, expect, it } from 'vitest';
import { ConfigError, gather, type ProgressBarLike } from '../../src/index.js';
import { createProgress, renderBarLine } from '../../src/future/progress.js';

/** A stream that records what is written; `columns` like a terminal's. */
function fakeStream(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  const stream = { isTTY, columns, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

/** A manual clock: time moves only by advance(). */
class ManualClock {
  private t = 0;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** What a terminal shows of a redraw: the text between '\r' and the erase-to-end-of-line code. */
const visible = (write: string) => write.replace(/^\r/, '').replace(/\x1b\[K$/, '');

describe('on a TTY', () => {
  it('every redraw fits in 40 columns (never wraps), with a description and a long run', () => {
    const clock = new ManualClock();
    const { stream, writes } = fakeStream(true, 40);
    const p = createProgress({ stream, desc: 'embedding documents', clock, minIntervalMs: 0 }, 12_345);
    for (let i = 0; i < 12_345; i += 1) {
      clock.advance(3);
      p.tick();
    }
    p.close();
    const redraws = writes.filter((w) => w.startsWith('\r'));
    expect(redraws.length).toBeGreaterThan(100);
    for (const w of redraws) expect(visible(w).length).toBeLessThanOrEqual(39);
    expect(visible(redraws.at(-1)!)).toContain('12345/12345 100%');
    expect(writes.at(-1)).toBe('\n');
  });

  it('keeps the full bar when the terminal is wide, and shrinks it to fit a narrow one', () => {
    const s = { completed: 5, total: 10, elapsedMs: 1000 };
    expect(renderBarLine(s, 'work', 30, 120)).toBe(`work [${'█'.repeat(15)}${'░'.repeat(15)}] 5/10 50% 5.0/s 1.0s eta 1.0s`);
    expect(renderBarLine(s, 'work', 30, 46)).toBe(`work [${'█'.repeat(5)}${'░'.repeat(4)}] 5/10 50% 5.0/s 1.0s eta 1.0s`); // 45 columns
    expect(renderBarLine(s, 'work', 30, 40)).toBe('work 5/10 50% 5.0/s 1.0s eta 1.0s'); // a bar of < 5 says nothing: left out
    expect(renderBarLine(s, 'work', 30, 20)).toBe('work 5/10 50%'); // no room for a bar or timing
    expect(renderBarLine(s, 'a very long description indeed', 30, 12).length).toBeLessThanOrEqual(11);
  });

  it('redraws at most every minIntervalMs, and always at the end', () => {
    const clock = new ManualClock();
    const { stream, writes } = fakeStream(true, 80);
    const p = createProgress({ stream, clock, minIntervalMs: 100 }, 50);
    for (let i = 0; i < 50; i++) {
      clock.advance(10);
      p.tick();
    }
    p.close();
    // 500 ms of ticks: a redraw per 100 ms, plus the last tick and the close.
    expect(writes.filter((w) => w.startsWith('\r')).length).toBeLessThanOrEqual(8);
  });
});

describe('not a TTY', () => {
  it('prints a plain line per 10 % completed, no redraws', () => {
    const clock = new ManualClock();
    const { stream, writes } = fakeStream(false);
    const p = createProgress({ stream, desc: 'docs', clock }, 1000);
    for (let i = 0; i < 1000; i++) {
      clock.advance(1);
      p.tick();
    }
    p.close();
    expect(writes).toHaveLength(10);
    expect(writes.every((w) => w.endsWith('\n') && !w.includes('\r') && !w.includes('\x1b'))).toBe(true);
    expect(writes[0]).toBe('docs 100/1000 10% 1000.0/s 0.1s eta 0.9s\n');
    expect(writes[9]).toBe('docs 1000/1000 100% 1000.0/s 1.0s\n');
  });

  it('prints at least every plainIntervalMs while work is slow, and a last line on close', () => {
    const clock = new ManualClock();
    const { stream, writes } = fakeStream(false);
    const p = createProgress({ stream, clock }, 0); // a streamed input: total not known yet
    for (let i = 0; i < 30; i++) {
      clock.advance(1000);
      p.tick();
    }
    expect(writes).toEqual(['10/? 1.0/s 10.0s\n', '20/? 1.0/s 20.0s\n', '30/? 1.0/s 30.0s\n']);
    p.setTotal(31);
    clock.advance(1000);
    p.tick();
    p.close();
    expect(writes.at(-1)).toBe('31/31 100% 1.0/s 31.0s\n');
  });
});

describe('a bar of your own', () => {
  it('is driven through start/update/setTotal/stop (the cli-progress shape)', async () => {
    const calls: unknown[][] = [];
    const bar: ProgressBarLike & { setTotal(t: number): void } = {
      start: (total, value) => calls.push(['start', total, value]),
      update: (value) => calls.push(['update', value]),
      setTotal: (total) => calls.push(['setTotal', total]),
      stop: () => calls.push(['stop']),
    };
    expect(await gather([1, Promise.resolve(2), 3], { progress: bar })).toEqual([1, 2, 3]);
    expect(calls[0]).toEqual(['start', 3, 0]);
    expect(calls.filter((c) => c[0] === 'update')).toEqual([['update', 1], ['update', 2], ['update', 3]]);
    expect(calls.at(-1)).toEqual(['stop']);
  });

  it('a half-implemented bar or a wrong value is a ConfigError naming the option', () => {
    expect(() => createProgress({ start() {}, update() {} } as any, 1)).toThrow(
      new ConfigError("Invalid option 'progress': a bar of your own needs start(), update() and stop(); this one has only start(), update()"),
    );
    expect(() => createProgress(42 as any, 1)).toThrow(/^Invalid option 'progress': got 42; expected true, bar options/);
    expect(() => createProgress({ width: 0 }, 1)).toThrow(/Invalid option 'progress.width': got 0; expected an integer >= 1/);
  });
});
