/**
 * `TaskWorker.map`: streams any number of inputs through a worker with a bounded number of calls
 * in flight, so memory stays flat for any input size. Iterate it (`for await`) to get results as
 * they come — in input order by default — or await it for the whole array.
 */
import type { Future } from '../future/future.js';
import { createProgress, type ProgressOption } from '../future/progress.js';
import { checkInteger, checkNumber } from '../config/validate.js';

/** Options of `map`, given as its last argument. */
export interface MapOptions {
  /** Yield in input order (default) or in completion order. */
  ordered?: boolean;
  /** A bar on a TTY, bar options, or a callback `(completed, total, elapsedMs)`. */
  progress?: ProgressOption;
  /** Calls in flight at most; default 1024. */
  window?: number;
  /**
   * Bytes of binary input (ArrayBuffers, typed arrays, DataViews among a call's arguments) in
   * flight at most; default 64 MiB. Keeps memory flat over big items, moved or copied: 10 000 items
   * of 1 MB never hold more than this many at once. One call is always let through.
   */
  windowBytes?: number;
}

const DEFAULT_WINDOW_BYTES = 64 * 2 ** 20;

/** Bytes of the binary values among `args` (top level; what move() and copies carry). */
function binaryBytes(args: unknown[]): number {
  let bytes = 0;
  for (const a of args) {
    if (a instanceof ArrayBuffer) bytes += a.byteLength;
    else if (ArrayBuffer.isView(a)) bytes += a.byteLength;
  }
  return bytes;
}

type AnyIterable = Iterable<unknown> | AsyncIterable<unknown>;

export function isIterableInput(value: unknown): value is AnyIterable {
  return (
    value !== null &&
    typeof value === 'object' &&
    (typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function' || isAsyncIterable(value))
  ) || typeof value === 'string';
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/** The result of `map`: an async iterable of results, and a promise of them all. */
export class MapRun<R> implements AsyncIterable<R>, PromiseLike<R[]> {
  private started = false;

  constructor(
    private readonly inputs: AnyIterable[],
    private readonly submit: (args: unknown[]) => Future<R>,
    private readonly options: MapOptions,
  ) {
    if (options.window !== undefined) checkInteger('window', options.window, 1);
    if (options.windowBytes !== undefined) checkNumber('windowBytes', options.windowBytes, 1);
  }

  then<A = R[], B = never>(
    onfulfilled?: ((value: R[]) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.collect().then(onfulfilled, onrejected);
  }

  private async collect(): Promise<R[]> {
    const out: R[] = [];
    for await (const r of this) out.push(r);
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<R> {
    if (this.started) throw new Error('map(): a map run can be consumed once');
    this.started = true;
    const window = this.options.window ?? 1024;
    const windowBytes = this.options.windowBytes ?? DEFAULT_WINDOW_BYTES;
    /** Binary input bytes of the calls in flight (sizes taken before a move detaches them). */
    let bytesInFlight = 0;
    const roomForBytes = (active: number) => active === 0 || bytesInFlight < windowBytes;
    const ordered = this.options.ordered ?? true;
    const knownTotal = this.inputs.every((i) => Array.isArray(i))
      ? Math.min(...this.inputs.map((i) => (i as unknown[]).length))
      : 0;
    const progress = createProgress(this.options.progress, knownTotal);
    const next = zip(this.inputs);
    let inputDone = false;
    let submitted = 0;
    try {
      if (ordered) {
        const inflight: Future<R>[] = [];
        const inflightBytes: number[] = [];
        let head = 0;
        const fill = async () => {
          while (!inputDone && inflight.length - head < window && roomForBytes(inflight.length - head)) {
            const tuple = await next();
            if (!tuple) {
              inputDone = true;
              progress.setTotal(submitted);
              break;
            }
            const bytes = binaryBytes(tuple);
            bytesInFlight += bytes;
            inflightBytes.push(bytes);
            inflight.push(this.submit(tuple));
            submitted++;
          }
        };
        await fill();
        while (head < inflight.length) {
          const f = inflight[head];
          inflight[head] = undefined as never;
          bytesInFlight -= inflightBytes[head++];
          const value = await f;
          progress.tick();
          if (head > 4096) {
            inflight.splice(0, head);
            inflightBytes.splice(0, head);
            head = 0;
          }
          yield value;
          await fill();
        }
      } else {
        const ready: { ok: boolean; v: unknown }[] = [];
        let wake: (() => void) | undefined;
        let active = 0;
        const fill = async () => {
          while (!inputDone && active < window && roomForBytes(active)) {
            const tuple = await next();
            if (!tuple) {
              inputDone = true;
              progress.setTotal(submitted);
              break;
            }
            active++;
            submitted++;
            const bytes = binaryBytes(tuple);
            bytesInFlight += bytes;
            this.submit(tuple).subscribe(
              (v) => {
                bytesInFlight -= bytes;
                ready.push({ ok: true, v });
                wake?.();
              },
              (e) => {
                bytesInFlight -= bytes;
                ready.push({ ok: false, v: e });
                wake?.();
              },
            );
          }
        };
        await fill();
        while (active > 0) {
          if (ready.length === 0) await new Promise<void>((r) => (wake = r));
          wake = undefined;
          const item = ready.shift()!;
          active--;
          if (!item.ok) throw item.v;
          progress.tick();
          yield item.v as R;
          await fill();
        }
      }
    } finally {
      progress.close();
    }
  }
}

/** Zips iterables (sync or async) into argument tuples, stopping at the shortest. */
function zip(inputs: AnyIterable[]): () => Promise<unknown[] | undefined> | unknown[] | undefined {
  type Source = { async: true; it: AsyncIterator<unknown> } | { async: false; it: Iterator<unknown> };
  const iterators = inputs.map((i): Source =>
    isAsyncIterable(i) ? { async: true, it: i[Symbol.asyncIterator]() } : { async: false, it: i[Symbol.iterator]() },
  );
  const allSync = iterators.every((i) => !i.async);
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    for (const { it } of iterators) void it.return?.();
  };
  if (allSync) {
    return () => {
      if (finished) return undefined;
      const tuple: unknown[] = [];
      for (const { it } of iterators) {
        const r = it.next();
        if (r.done) {
          finish();
          return undefined;
        }
        tuple.push(r.value);
      }
      return tuple;
    };
  }
  return async () => {
    if (finished) return undefined;
    const tuple: unknown[] = [];
    for (const { it } of iterators) {
      const r = await it.next();
      if (r.done) {
        finish();
        return undefined;
      }
      tuple.push(r.value);
    }
    return tuple;
  };
}
