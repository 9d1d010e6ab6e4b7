/**
 * Progress reporting for `gather`, `map` and friends: a bar drawn on a TTY (stderr), silence
 * elsewhere so CI logs stay clean, or a user callback.
 */

/** Bar appearance. */
export interface ProgressBarOptions {
  /** Text before the bar. */
  desc?: string;
  /** Bar width in characters; default 30. */
  width?: number;
  /** Where to draw; default process.stderr. Drawing happens only when it is a TTY. */
  stream?: NodeJS.WriteStream;
  /** Minimum ms between redraws; default 100. */
  minIntervalMs?: number;
}

/** `true` for a default bar, bar options, or a callback `(completed, total, elapsedMs)`. */
export type ProgressOption = boolean | ProgressBarOptions | ((completed: number, total: number, elapsedMs: number) => void);

/** Receives progress ticks. */
export interface ProgressReporter {
  tick(): void;
  /** Sets the total when it becomes known (streaming inputs). */
  setTotal(total: number): void;
  close(): void;
}

const silent: ProgressReporter = { tick() {}, setTotal() {}, close() {} };

/** Builds a reporter for `option`; a no-op one when progress is off or there is no TTY. */
export function createProgress(option: ProgressOption | undefined, total: number): ProgressReporter {
  if (!option) return silent;
  const started = performance.now();
  let completed = 0;
  if (typeof option === 'function') {
    return {
      tick() {
        completed++;
        option(completed, total, performance.now() - started);
      },
      setTotal(t) {
        total = t;
      },
      close() {},
    };
  }
  const opts: ProgressBarOptions = option === true ? {} : option;
  const stream = opts.stream ?? process.stderr;
  if (!stream.isTTY) return silent;
  const width = opts.width ?? 30;
  const minInterval = opts.minIntervalMs ?? 100;
  let lastDraw = 0;
  const draw = (force: boolean) => {
    const now = performance.now();
    if (!force && now - lastDraw < minInterval) return;
    lastDraw = now;
    const frac = total > 0 ? Math.min(1, completed / total) : 0;
    const filled = Math.round(frac * width);
    const elapsed = (now - started) / 1000;
    const rate = elapsed > 0 ? completed / elapsed : 0;
    const eta = rate > 0 && total > completed ? (total - completed) / rate : 0;
    const line =
      `${opts.desc ? opts.desc + ' ' : ''}[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ` +
      `${completed}/${total || '?'} ${(frac * 100).toFixed(0)}% ${rate.toFixed(1)}/s ` +
      `${elapsed.toFixed(1)}s${eta ? ` eta ${eta.toFixed(1)}s` : ''}`;
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
