/** Waiting on many futures (or promises, or plain values) at once. */
import { ConfigError, TimeoutError } from '../errors.js';
import { checkDuration, checkOneOf, checkOptionsArgument } from '../config/validate.js';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../util/long-timeout.js';
import { Future, isThenable, type FutureListener } from './future.js';
import { createProgress, type ProgressOption } from './progress.js';

/** Options of {@link gather}. */
export interface GatherOptions {
  /** Put errors in the result instead of rejecting at the first failure. */
  returnExceptions?: boolean;
  /** Reject with TimeoutError after this many ms. */
  timeout?: number;
  /** A bar on a TTY (`true` or bar options) or a callback `(completed, total, elapsedMs)`. */
  progress?: ProgressOption;
}

type GatherValue<T> = T extends PromiseLike<infer U> ? U : T;
/** With `returnExceptions` an item is its value or its error, so nothing narrower than `unknown`. */
type GatherResult<T, E extends boolean> = E extends true ? unknown : GatherValue<T>;

/**
 * Waits for every item and returns their values in input order (an array), or under the same keys
 * (a record). Plain values pass through. The first failure rejects, unless `returnExceptions`.
 */
export function gather<const T extends readonly unknown[]>(
  items: T,
  options?: GatherOptions & { returnExceptions?: false },
): Promise<{ -readonly [K in keyof T]: GatherValue<T[K]> }>;
export function gather<const T extends readonly unknown[]>(
  items: T,
  options: GatherOptions & { returnExceptions: true },
): Promise<{ -readonly [K in keyof T]: GatherResult<T[K], true> }>;
export function gather<T extends Record<string, unknown>>(
  items: T,
  options?: GatherOptions,
): Promise<{ [K in keyof T]: GatherResult<T[K], false> }>;
export function gather(items: unknown, gatherOptions?: GatherOptions): Promise<unknown> {
  const options = checkOptionsArgument('gather()', gatherOptions);
  const { keys, values } = entriesOf(items, 'gather');
  const n = values.length;
  const progress = createProgress(options.progress, n);
  const timeout = checkDuration('gather({ timeout })', options.timeout);
  return withTimeout(timeout, 'gather', (settleOk, settleErr) => {
    const state = new GatherState(n, keys, progress, options.returnExceptions === true, settleOk, settleErr);
    if (n === 0) return finishGather(state);
    for (let i = 0; i < n; i++) {
      const item = values[i];
      if (item instanceof Future) item.listen(state, i);
      else if (isThenable(item)) item.then((v) => state.onValue(v, i), (e) => state.onError(e, i));
      else state.onValue(item, i);
    }
  });
}

/** A gather in progress: the one listener of all its futures, each telling its index (no object per item). */
class GatherState implements FutureListener {
  readonly out: unknown[];
  private remaining: number;

  constructor(
    n: number,
    readonly keys: string[] | undefined,
    readonly progress: ReturnType<typeof createProgress>,
    private readonly returnExceptions: boolean,
    readonly settleOk: (v: unknown) => void,
    private readonly settleErr: (e: unknown) => void,
  ) {
    this.out = new Array(n);
    this.remaining = n;
  }

  onValue(v: unknown, index: number): void {
    this.out[index] = v;
    this.progress.tick();
    if (--this.remaining === 0) finishGather(this);
  }

  onError(e: unknown, index: number): void {
    if (!this.returnExceptions) {
      this.progress.close();
      return this.settleErr(e);
    }
    this.onValue(e, index);
  }
}

function finishGather(s: GatherState): void {
  s.progress.close();
  const keys = s.keys;
  s.settleOk(keys ? Object.fromEntries(keys.map((k, i) => [k, s.out[i]])) : s.out);
}

/** Options of {@link wait}. */
export interface WaitManyOptions {
  /** `'all'` (default), `'first'` (first to finish) or `'first-exception'` (first failure, else all). */
  returnWhen?: 'all' | 'first' | 'first-exception';
  /** Return after this many ms with whatever is done (no error). */
  timeout?: number;
}

/** Waits until `returnWhen` holds (or the timeout passes) and splits the items into done and not done. */
export function wait<T>(
  items: Iterable<T> | Record<string, T>,
  waitOptions?: WaitManyOptions,
): Promise<{ done: Set<T>; notDone: Set<T> }> {
  const options = checkOptionsArgument('wait()', waitOptions);
  const { values } = entriesOf(items, 'wait');
  const returnWhen = checkOneOf('wait({ returnWhen })', options.returnWhen ?? 'all', ['all', 'first', 'first-exception']);
  const timeout = checkDuration('wait({ timeout })', options.timeout);
  const done = new Set<T>();
  const notDone = new Set<T>(values as T[]);
  return new Promise((resolve) => {
    let finished = false;
    let timer: LongTimeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearLongTimeout(timer);
      resolve({ done, notDone });
    };
    if (timeout !== undefined) timer = setLongTimeout(finish, timeout);
    if (notDone.size === 0) return finish();
    for (const item of values as T[]) {
      const mark = (failed: boolean) => {
        notDone.delete(item);
        done.add(item);
        if (returnWhen === 'first' || (returnWhen === 'first-exception' && failed) || notDone.size === 0) finish();
      };
      onSettle(item, () => mark(false), () => mark(true));
    }
  });
}

/** Options of {@link asCompleted}. */
export interface AsCompletedOptions {
  /** Throw TimeoutError if the next item takes longer than this many ms from the start. */
  timeout?: number;
}

/**
 * Yields `[indexOrKey, value]` pairs in completion order. A failed item throws its error from the
 * iterator at its turn.
 */
export function asCompleted<T>(
  items: Iterable<T> | Record<string, T>,
  completedOptions?: AsCompletedOptions,
): AsyncGenerator<[number | string, Awaited<T>]> {
  // Checked here, not in the generator, so bad input throws at the call rather than at the first next().
  const options = checkOptionsArgument('asCompleted()', completedOptions);
  const { keys, values } = entriesOf(items, 'asCompleted');
  const timeout = checkDuration('asCompleted({ timeout })', options.timeout);
  return completionOrder<T>(keys, values, timeout);
}

async function* completionOrder<T>(
  keys: string[] | undefined,
  values: unknown[],
  timeout: number | undefined,
): AsyncGenerator<[number | string, Awaited<T>]> {
  const deadline = timeout !== undefined ? performance.now() + timeout : undefined;
  const ready: { i: number; ok: boolean; v: unknown }[] = [];
  let wake: (() => void) | undefined;
  values.forEach((item, i) =>
    onSettle(
      item,
      (v) => {
        ready.push({ i, ok: true, v });
        wake?.();
      },
      (e) => {
        ready.push({ i, ok: false, v: e });
        wake?.();
      },
    ),
  );
  for (let yielded = 0; yielded < values.length; yielded++) {
    while (ready.length === 0) {
      await new Promise<void>((resolve, reject) => {
        wake = resolve;
        if (deadline !== undefined) {
          const t = setLongTimeout(
            () => reject(new TimeoutError(`asCompleted: ${values.length - yielded} item(s) not done within ${timeout} ms`)),
            Math.max(0, deadline - performance.now()),
          );
          wake = () => {
            clearLongTimeout(t);
            resolve();
          };
        }
      });
      wake = undefined;
    }
    const next = ready.shift()!;
    if (!next.ok) throw next.v;
    yield [keys ? keys[next.i] : next.i, next.v as Awaited<T>];
  }
}

function entriesOf(items: unknown, fn: string): { keys?: string[]; values: unknown[] } {
  if (items === null || typeof items !== 'object') {
    throw new ConfigError(`${fn}: expected an array, an iterable or a record of futures, got ${items === null ? 'null' : typeof items}`);
  }
  if (Symbol.iterator in items) return { values: [...(items as Iterable<unknown>)] };
  const keys = Object.keys(items);
  return { keys, values: keys.map((k) => (items as Record<string, unknown>)[k]) };
}

function onSettle(item: unknown, ok: (v: unknown) => void, err: (e: unknown) => void): void {
  if (item instanceof Future) item.subscribe(ok, err);
  else if (isThenable(item)) item.then(ok, err);
  else ok(item);
}

function withTimeout<T>(
  timeout: number | undefined,
  fn: string,
  body: (ok: (v: T) => void, err: (e: unknown) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: LongTimeout | undefined;
    if (timeout !== undefined) {
      timer = setLongTimeout(() => reject(new TimeoutError(`${fn}: not done within ${timeout} ms`)), timeout);
    }
    body(
      (v) => {
        clearLongTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearLongTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the awaited item's own error, passed on unchanged whatever was thrown
        reject(e);
      },
    );
  });
}
