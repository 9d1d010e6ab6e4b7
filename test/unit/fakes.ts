/**
 * Fakes for unit tests of the caller-side layers (pool, guard, IPC transport): a member transport
 * and an IPC channel that run nothing, record what they are given, and let the test decide what
 * the "worker" does — no threads, no processes, no timers.
 */
import { WorkerCrashedError } from '../../src/errors.js';
import { emptyLimitSet } from '../../src/limits/index.js';
import type { Settler } from '../../src/modes/transport.js';
import { CallNotStartedError } from '../../src/modes/not-started.js';
import type { Channel, ExitInfo } from '../../src/modes/ipc/channel.js';
import type { FromWorker, ToWorker } from '../../src/modes/ipc/protocol.js';
import type { Transport, TransportCall, TransportInit } from '../../src/modes/transport.js';

export class Calc {
  add(a: number, b: number): number {
    return a + b;
  }
  slow(): number {
    return 0;
  }
}

/** A TransportInit for `Calc`; `events` collects what the transport reports. */
export function fakeInit(overrides: Partial<TransportInit> = {}): TransportInit & { events: unknown[] } {
  const events: unknown[] = [];
  return {
    workerClass: Calc,
    ctorArgs: [],
    runtimeOptions: {} as TransportInit['runtimeOptions'],
    onEvent: (event) => events.push(event),
    limits: emptyLimitSet(),
    workerIndex: 0,
    options: { mode: 'thread', module: 'file:///fake/calc.js' },
    ...overrides,
    events,
  };
}

/** A settler that records its outcome. */
export class Outcome implements Settler {
  state: 'pending' | 'resolved' | 'rejected' = 'pending';
  value: unknown;
  settlements = 0;
  resolve(value: unknown): void {
    this.settlements++;
    this.state = 'resolved';
    this.value = value;
  }
  reject(error: unknown): void {
    this.settlements++;
    this.state = 'rejected';
    this.value = error;
  }
  get error(): Error {
    if (this.state !== 'rejected') throw new Error(`expected a rejection, got ${this.state}`);
    return this.value as Error;
  }
}

let nextCallId = 1;
export function call(method: string, ...args: unknown[]): TransportCall {
  return { id: nextCallId++, method, args };
}

interface Sent {
  call: TransportCall;
  settler: Settler;
  /** Whether the fake worker has started it (decides how a crash hands it back). */
  started: boolean;
}

/**
 * A member transport whose worker the test drives: `start()` makes it ready, `complete()` settles
 * a call, `crash()` reports the death to the pool (onCrash) and hands every call back as a real
 * thread/process transport does — started ones as WorkerCrashedError, the rest as not started.
 */
export class FakeTransport implements Transport {
  readonly sent: Sent[] = [];
  readonly cancelRequests: TransportCall[] = [];
  readonly terminated: { call: TransportCall; reason: string }[] = [];
  stoppedWith?: number;
  dead = false;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;

  constructor(readonly init: TransportInit) {
    this.readyPromise = new Promise((resolve) => (this.resolveReady = resolve));
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  start(): void {
    this.resolveReady();
  }

  get inFlight(): number {
    return this.sent.length;
  }

  /** Methods of the calls in flight, in the order they were sent. */
  get methods(): string[] {
    return this.sent.map((s) => s.call.method);
  }

  send(call: TransportCall, settler: Settler): void {
    if (this.dead) return settler.reject(new WorkerCrashedError('gone'));
    this.sent.push({ call, settler, started: false });
  }

  /** Like a worker's queue: a call not started yet is dropped (true); a running one is only asked to abort. */
  cancel(call: TransportCall): boolean {
    this.cancelRequests.push(call);
    const i = this.sent.findIndex((s) => s.call === call);
    if (i < 0 || this.sent[i].started) return false;
    this.sent.splice(i, 1);
    return true;
  }

  isInFlight(call: TransportCall): boolean {
    return this.sent.some((s) => s.call === call);
  }

  terminate(call: TransportCall, reason: string): void {
    this.terminated.push({ call, reason });
  }

  markStarted(call: TransportCall): void {
    this.entry(call).started = true;
  }

  complete(call: TransportCall, value: unknown): void {
    const entry = this.entry(call);
    this.sent.splice(this.sent.indexOf(entry), 1);
    entry.settler.resolve(value);
  }

  fail(call: TransportCall, error: unknown): void {
    const entry = this.entry(call);
    this.sent.splice(this.sent.indexOf(entry), 1);
    entry.settler.reject(error);
  }

  crash(message = 'Worker thread of Calc exited with code 1'): void {
    this.dead = true;
    const error = new WorkerCrashedError(message);
    this.init.onCrash?.(error);
    for (const s of this.sent.splice(0)) {
      s.settler.reject(s.started ? new WorkerCrashedError(`${message} while running Calc.${s.call.method}`) : new CallNotStartedError(`${message} before Calc.${s.call.method} started`));
    }
  }

  stop(timeoutMs: number): Promise<void> {
    this.stoppedWith = timeoutMs;
    return Promise.resolve();
  }

  private entry(call: TransportCall): Sent {
    const entry = this.sent.find((s) => s.call === call);
    if (!entry) throw new Error(`call ${call.method}#${call.id} is not in flight on worker ${this.init.workerIndex}`);
    return entry;
  }
}

/** A member factory that keeps every transport it made, in order. */
export function fakeMembers(): { made: FakeTransport[]; factory: (init: TransportInit) => FakeTransport } {
  const made: FakeTransport[] = [];
  return {
    made,
    factory: (init) => {
      const t = new FakeTransport(init);
      made.push(t);
      return t;
    },
  };
}

/**
 * An IPC channel with no worker behind it: records posts, lets the test deliver worker messages
 * (`receive`) and the worker's exit (`exit`), and plays the started marker.
 */
export class FakeChannel implements Channel {
  readonly kind = 'process' as const;
  readonly posts: ToWorker[] = [];
  killed = 0;
  referenced = true;
  /** The started marker the "worker" left: calls with a sequence number below it may have started. */
  marker = 0;
  readonly started = {
    init: { kind: 'file', fd: -1 } as const,
    read: () => this.marker,
    close: () => {},
  };
  private deliver: (msg: FromWorker) => void = () => {};
  private exitFn: (info: ExitInfo) => void = () => {};

  readonly post = (msg: ToWorker): void => {
    this.posts.push(msg);
  };
  onMessage(fn: (msg: FromWorker) => void): void {
    this.deliver = fn;
  }
  onExit(fn: (info: ExitInfo) => void): void {
    this.exitFn = fn;
  }
  kill(): void {
    this.killed++;
  }
  ref(): void {
    this.referenced = true;
  }
  unref(): void {
    this.referenced = false;
  }

  receive(msg: FromWorker): void {
    this.deliver(msg);
  }
  exit(info: ExitInfo): void {
    this.exitFn(info);
  }
  /** The posts of one type. */
  postsOf<T extends ToWorker['t']>(t: T): Extract<ToWorker, { t: T }>[] {
    return this.posts.filter((m): m is Extract<ToWorker, { t: T }> => m.t === t);
  }
}
