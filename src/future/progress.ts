/**
 * Progress reporting for `gather`, `map` and friends: a bar redrawn in place on a TTY (fitted to the
 * terminal's width), periodic plain lines elsewhere (CI logs get a line per 10 % or 10 s, not a
 * redraw per tick), a user callback, or a bar of the user's (e.g. a `cli-progress` bar).
 */

import { ConfigError } from '../errors.js';
import { configError } from '../config/validate.js';

/** Bar appearance. */
export interface ProgressBarOptions {
  /** Text before the bar. */
  desc?: string;
  /** Widest bar in characters; default 30. It shrinks (or goes) to keep the line within the terminal. */
  width?: number;
  /** Where to write; default process.stderr. A TTY gets a bar redrawn in place, anything else plain lines. */
  stream?: NodeJS.WriteStream;
  /** Minimum ms between redraws on a TTY; default 100. */
  minIntervalMs?: number;
  /** Not a TTY: the most ms between two plain lines while work completes; default 10000 (a line also every 10 %). */
  plainIntervalMs?: number;
  /** Time source in ms (tests inject a fake); default performance.now. */
  clock?: { now(): number };
}

/**
 * A progress bar of your own, such as a `cli-progress` `SingleBar`: anything with these methods.
 * `start` is called once with the total (0 while a streamed input's total is unknown), `update`
 * with the number completed, `setTotal` (if present) when the total becomes known, `stop` at the end.
 */
export interface ProgressBarLike {
  start(total: number, startValue: number): void;
  update(completed: number): void;
  stop(): void;
  setTotal?(total: number): void;
}

/** A callback told of every completion. */
export type ProgressCallback = (completed: number, total: number, elapsedMs: number) => void;

/** `true` for a default bar, bar options, a callback `(completed, total, elapsedMs)`, or a bar of yours. */
export type ProgressOption = boolean | ProgressBarOptions | ProgressCallback | ProgressBarLike;

/** Receives progress ticks. */
export interface ProgressReporter {
  tick(): void;
  /** Sets the total when it becomes known (streaming inputs). */
  setTotal(total: number): void;
  close(): void;
}

const silent: ProgressReporter = { tick() {}, setTotal() {}, close() {} };

/** Terminal width when the stream does not say. */
const DEFAULT_COLUMNS = 80;
/** A bar narrower than this says nothing the percentage does not: it is left out. */
const MIN_BAR = 5;

function isBarLike(option: object): option is ProgressBarLike {
  const o = option as Partial<ProgressBarLike>;
  return typeof o.start === 'function' && typeof o.update === 'function' && typeof o.stop === 'function';
}

/** Refuses a `progress` value that is none of the accepted forms, naming what is wrong. */
function checkOption(option: unknown): void {
  if (typeof option === 'boolean' || typeof option === 'function') return;
  if (option === null || typeof option !== 'object') {
    throw configError('progress', option, 'true, bar options { desc, width, stream, ... }, a callback (completed, total, elapsedMs) or a bar with start/update/stop');
  }
  const barMethods = (['start', 'update', 'stop'] as const).filter((m) => typeof (option as Partial<Record<typeof m, unknown>>)[m] === 'function');
  if (barMethods.length > 0 && barMethods.length < 3) {
    throw new ConfigError(`Invalid option 'progress': a bar of your own needs start(), update() and stop(); this one has only ${barMethods.map((m) => `${m}()`).join(', ')}`);
  }
  const o = option as ProgressBarOptions;
  if (o.width !== undefined && !(Number.isInteger(o.width) && o.width >= 1)) throw configError('progress.width', o.width, 'an integer >= 1');
  for (const key of ['minIntervalMs', 'plainIntervalMs'] as const) {
    if (o[key] !== undefined && !(typeof o[key] === 'number' && o[key] >= 0)) throw configError(`progress.${key}`, o[key], 'a number of ms >= 0');
  }
}

/** Builds a reporter for `option`; a no-op one when progress is off. */
export function createProgress(option: ProgressOption | undefined, total: number): ProgressReporter {
  if (option === undefined) return silent;
  checkOption(option);
  if (!option) return silent;
  if (typeof option === 'function') return callbackReporter(option, total, performance.now.bind(performance));
  if (option !== true && isBarLike(option)) return userBarReporter(option, total);
  const opts: ProgressBarOptions = option === true ? {} : option;
  const stream = opts.stream ?? process.stderr;
  return stream.isTTY ? ttyReporter(opts, stream, total) : plainReporter(opts, stream, total);
}

function callbackReporter(callback: ProgressCallback, total: number, now: () => number): ProgressReporter {
  const started = now();
  let completed = 0;
  return {
    tick() {
      completed++;
      callback(completed, total, now() - started);
    },
    setTotal(t) {
      total = t;
    },
    close() {},
  };
}

function userBarReporter(bar: ProgressBarLike, total: number): ProgressReporter {
  let completed = 0;
  bar.start(total, 0);
  return {
    tick() {
      bar.update(++completed);
    },
    setTotal(t) {
      total = t;
      bar.setTotal?.(t);
    },
    close() {
      bar.stop();
    },
  };
}

/** What every rendering shows: counts, percentage, rate, elapsed time and the estimate. */
interface Snapshot {
  completed: number;
  total: number;
  elapsedMs: number;
}

function summary({ completed, total, elapsedMs }: Snapshot): { counts: string; timing: string } {
  const frac = total > 0 ? Math.min(1, completed / total) : 0;
  const elapsed = elapsedMs / 1000;
  const rate = elapsed > 0 ? completed / elapsed : 0;
  const eta = rate > 0 && total > completed ? (total - completed) / rate : 0;
  return {
    counts: `${completed}/${total || '?'}${total > 0 ? ` ${(frac * 100).toFixed(0)}%` : ''}`,
    timing: `${rate.toFixed(1)}/s ${elapsed.toFixed(1)}s${eta ? ` eta ${eta.toFixed(1)}s` : ''}`,
  };
}

/**
 * One line of at most `columns - 1` characters (the last column would make terminals wrap): the
 * bar shrinks first, then goes, then the timing, then the description is cut.
 */
export function renderBarLine(s: Snapshot, desc: string | undefined, maxBar: number, columns: number): string {
  const room = Math.max(1, columns - 1);
  const { counts, timing } = summary(s);
  const prefix = desc ? `${desc} ` : '';
  const text = `${counts} ${timing}`;
  const barRoom = Math.min(maxBar, room - prefix.length - text.length - 3); // "[", "] "
  if (barRoom >= MIN_BAR) {
    const frac = s.total > 0 ? Math.min(1, s.completed / s.total) : 0;
    const filled = Math.round(frac * barRoom);
    return `${prefix}[${'█'.repeat(filled)}${'░'.repeat(barRoom - filled)}] ${text}`;
  }
  for (const line of [`${prefix}${text}`, `${prefix}${counts}`]) if (line.length <= room) return line;
  return `${prefix}${counts}`.slice(-room);
}

function ttyReporter(opts: ProgressBarOptions, stream: NodeJS.WriteStream, total: number): ProgressReporter {
  const now = opts.clock ? () => opts.clock!.now() : performance.now.bind(performance);
  const started = now();
  const maxBar = opts.width ?? 30;
  const minInterval = opts.minIntervalMs ?? 100;
  let completed = 0;
  let lastDraw = -Infinity;
  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - lastDraw < minInterval) return;
    lastDraw = t;
    const line = renderBarLine({ completed, total, elapsedMs: t - started }, opts.desc, maxBar, stream.columns || DEFAULT_COLUMNS);
    stream.write(`\r${line}\x1b[K`);
  };
  return {
    tick() {
      completed++;
      draw(completed === total);
    },
    setTotal(t) {
      total = t;
    },
    close() {
      draw(true);
      stream.write('\n');
    },
  };
}

/** Not a TTY: a plain line each time another 10 % completes or `plainIntervalMs` passed, and a last one. */
function plainReporter(opts: ProgressBarOptions, stream: NodeJS.WriteStream, total: number): ProgressReporter {
  const now = opts.clock ? () => opts.clock!.now() : performance.now.bind(performance);
  const started = now();
  const interval = opts.plainIntervalMs ?? 10_000;
  let completed = 0;
  let lastLine = started;
  let lastDecile = 0;
  let printed = -1;
  const print = (t: number) => {
    const { counts, timing } = summary({ completed, total, elapsedMs: t - started });
    stream.write(`${opts.desc ? `${opts.desc} ` : ''}${counts} ${timing}\n`);
    lastLine = t;
    printed = completed;
  };
  return {
    tick() {
      completed++;
      const t = now();
      const decile = total > 0 ? Math.floor((Math.min(completed, total) * 10) / total) : 0;
      if (decile > lastDecile || t - lastLine >= interval) {
        lastDecile = Math.max(lastDecile, decile);
        print(t);
      }
    },
    setTotal(t) {
      total = t;
    },
    close() {
      if (printed !== completed) print(now());
    },
  };
}
