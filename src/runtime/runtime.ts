/**
 * The executing side of a worker: holds the instance, runs its calls in submission order (at most
 * `maxConcurrency` at once), and wraps calls in the retry engine. The same runtime runs in this
 * thread (sync/async modes), in a worker thread, and in a child process.
 */
import { CancelledError, WorkerInitError, unknownMethod } from '../errors.js';
import type { Clock, RandomSource } from '../clock.js';
import { systemClock } from '../clock.js';
import { executeWithRetry, resolveRetryPolicies } from '../retry/index.js';
import type { RetryBudgetClient, RetryContext, RetryPolicy, WorkerRetryOptions } from '../retry/index.js';
import type { LimitsLike } from '../limits/index.js';
import { overlappingCallContext, type CallContext } from './context.js';
import type { RuntimeEvent } from '../observability/events.js';
import { AttemptLimits } from './attempt-limits.js';
import { publicMethodNames } from './methods.js';
import { constructWorker, type WorkerClass } from './construct.js';
import { describeThrown } from '../serialize/errors.js';
import { chaosRandom, withChaos, type ChaosOptions } from './chaos.js';
import { IntrusiveList } from '../util/linked-list.js';
import { clearLongTimeout, setLongTimeout } from '../util/long-timeout.js';
import type { Settler } from '../util/settler.js';

/** The cloneable part of a worker's options that the runtime needs. */
export interface RuntimeOptions {
  /** Calls allowed to overlap (async methods only); 1 = strict actor order. */
  maxConcurrency: number;
  /** Run each call inline at submission (sync mode) instead of queueing. */
  inline?: boolean;
  retry?: WorkerRetryOptions;
  /** Fault injection around every attempt (tests). */
  chaos?: ChaosOptions;
}

export interface RuntimeHooks {
  emit?: (event: RuntimeEvent) => void;
  limits: LimitsLike;
  clock?: Clock;
  random?: RandomSource;
  budget?: RetryBudgetClient;
  /**
   * Told the id of each call just before its method first runs (thread/process hosts record which
   * calls started, so a pool never re-runs one after a crash).
   */
  onStart?: (id: number) => void;
}

/**
 * Where {@link WorkerRuntime.runBatch} reports: calls that ran to a plain outcome in its loop go to
 * `settled`; the others get a settler of their own, as {@link WorkerRuntime.submit} takes one.
 */
export interface BatchSink {
  settled(id: number, method: string, ok: boolean, value: unknown): void;
  settlerFor(id: number, method: string): Settler;
}

/** A batch as the worker host receives it: `[id, method, args]` triples; a method may be given by its index in the method names. */
export type CallTriples = readonly unknown[];

interface RunningCall {
  id: number;
  method: string;
  args: unknown[];
  /** Undefined only while runBatch runs the call in its loop: it is given one if the call goes on. */
  settler: Settler | undefined;
  controller?: AbortController;
  abortReason?: unknown;
  startedAt: number;
  /** Built on first use: most calls never look at their context. */
  ctx?: CallContext;
  /** Neighbours in the runtime's list of running calls. */
  prevLink?: RunningCall;
  nextLink?: RunningCall;
  finished?: boolean;
}

/** Hosts one worker instance. */
export class WorkerRuntime {
  readonly instance: object;
  readonly className: string;
  private readonly maxConcurrency: number;
  private readonly inline: boolean;
  /** runBatch may run calls in its loop: inline, and calls never overlap (no context to carry across awaits). */
  private readonly runsInLoop: boolean;
  private readonly queue: RunningCall[] = [];
  private queueHead = 0;
  private readonly running = new IntrusiveList<RunningCall>();
  private readonly originals = new Map<string, (...args: unknown[]) => unknown>();
  /** The methods without a retry policy: the ones runBatch may run in its loop. */
  private readonly plainMethods = new Set<string>();
  private readonly policyFor: (method: string) => RetryPolicy | undefined;
  private readonly clock: Clock;
  private readonly attemptLimits: AttemptLimits;
  private idleWaiters: (() => void)[] = [];
  /** The call running now, when calls don't overlap (maxConcurrency 1). */
  private currentCall?: RunningCall;
  /** The retry engine's context of the attempt running now, when calls don't overlap. */
  private currentAttempt?: CallContext;

  /** Constructs the instance; throws {@link WorkerInitError} when the constructor throws. */
  constructor(
    workerClass: WorkerClass,
    ctorArgs: unknown[],
    options: RuntimeOptions,
    private readonly hooks: RuntimeHooks,
  ) {
    this.className = workerClass.name;
    this.maxConcurrency = options.maxConcurrency;
    this.inline = options.inline ?? false;
    this.runsInLoop = this.inline && this.maxConcurrency === 1;
    this.clock = hooks.clock ?? systemClock;
    const names = publicMethodNames(workerClass);
    this.policyFor = options.retry ? resolveRetryPolicies(options.retry, names) : () => undefined;
    this.attemptLimits = new AttemptLimits(hooks.limits, () => this.currentCallRecord());
    try {
      this.instance = constructWorker(workerClass, ctorArgs, this.attemptLimits, this);
    } catch (error) {
      throw new WorkerInitError(`${this.className} constructor failed: ${describeThrown(error)}`, { cause: error });
    }
    const chaos = options.chaos;
    const chaosDraw = chaos ? chaosRandom(chaos) : undefined;
    for (const name of names) {
      const member = (this.instance as Record<string, unknown>)[name];
      if (typeof member !== 'function') continue;
      let fn = member as (...args: unknown[]) => unknown;
      if (chaos) fn = withChaos(name, fn, chaos, chaosDraw!, this.clock);
      this.originals.set(name, fn);
      if (this.policyFor(name) === undefined) this.plainMethods.add(name);
      // Only calls that enter from a handle get retries and validation; the instance's own methods
      // stay untouched, so `this.helper()` inside a method is a plain call.
    }
  }

  /** True when the class has a public method of that name. */
  hasMethod(name: string): boolean {
    return this.originals.has(name);
  }

  /** Calls queued or running. */
  get pending(): number {
    return this.running.size + this.queue.length - this.queueHead;
  }

  /**
   * Queues a call; its outcome goes to `settler`. Inline runtimes (sync mode) start an idle worker's
   * call right here, inside the caller's call; the others start queued calls on a microtask, after
   * the caller's synchronous code, as an event loop would. Either way calls start in submission order.
   */
  submit(id: number, method: string, args: unknown[], settler: Settler): void {
    const call: RunningCall = { id, method, args, settler, startedAt: 0, ctx: undefined, prevLink: undefined, nextLink: undefined, finished: false };
    if (this.inline && this.running.size < this.maxConcurrency && this.queueHead === this.queue.length) {
      this.start(call);
      return;
    }
    this.queue.push(call);
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(this.scheduledPump);
    }
  }

  private pumpScheduled = false;
  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  /**
   * Runs a batch of calls in order, as {@link submit} would one by one. A call that finds the
   * runtime idle and calls a method without a retry policy, which returns a plain value or throws,
   * runs right in this loop and goes to `sink.settled`: no settler, no queue, and few enough
   * functions per call that V8 optimizes the worker's call path within a fresh pool's first
   * thousand calls (docs/decisions/worker-batch-loop.md). Every other call takes the general path.
   */
  runBatch(calls: CallTriples, methodNames: readonly string[], sink: BatchSink): void {
    for (let i = 0; i < calls.length; i += 3) {
      const id = calls[i] as number;
      const ref = calls[i + 1];
      const method = typeof ref === 'number' ? methodNames[ref] : (ref as string);
      const args = calls[i + 2] as unknown[];
      if (!this.plainMethods.has(method) || !this.runsInLoop || this.running.size !== 0 || this.queueHead !== this.queue.length || this.attemptLimits.used) {
        this.submit(id, method, args, sink.settlerFor(id, method));
        continue;
      }
      const call: RunningCall = { id, method, args, settler: undefined, startedAt: 0, ctx: undefined, prevLink: undefined, nextLink: undefined, finished: false };
      this.begin(call);
      let out: unknown;
      try {
        out = this.execute(call);
      } catch (error) {
        this.end(call);
        sink.settled(id, method, false, error);
        continue;
      }
      if (isPlainValue(out)) {
        this.end(call);
        sink.settled(id, method, true, out);
        continue;
      }
      // A thenable or an object (its `then` must be looked at), or limits taken during the call.
      call.settler = sink.settlerFor(id, method);
      this.conclude(call, out);
    }
  }

  /** Drops a queued call (true) or aborts a running one's signal (false). */
  cancel(id: number, reason: unknown = new CancelledError('Call was cancelled')): boolean {
    for (let i = this.queueHead; i < this.queue.length; i++) {
      if (this.queue[i].id === id) {
        this.queue.splice(i, 1);
        return true;
      }
    }
    for (let call = this.running.head; call; call = call.nextLink) {
      if (call.id === id) {
        abortCall(call, reason);
        return false;
      }
    }
    return false;
  }

  /**
   * Rejects every queued call with CancelledError and aborts the running ones' signals; resolves
   * when no call is running or after `timeoutMs`, whichever is first.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    const queued = this.queue.splice(this.queueHead);
    this.queue.length = 0;
    this.queueHead = 0;
    for (const call of queued) call.settler!.reject(new CancelledError('Worker stopped before the call ran'));
    if (this.running.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setLongTimeout(() => {
        for (const call of this.running.toArray()) abortCall(call, new CancelledError('Worker stopped while the call was running'));
        resolve();
      }, timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearLongTimeout(timer);
        resolve();
      });
    });
  }

  /** The context of the call running now (see {@link CallContext}). */
  currentContext(): CallContext | undefined {
    if (this.maxConcurrency > 1) {
      const ctx = overlappingCallContext.getStore();
      if (ctx) return ctx;
    }
    if (this.currentAttempt) return this.currentAttempt;
    const call = this.currentCall;
    return call ? (call.ctx ??= plainContext(this, call)) : undefined;
  }

  private currentCallRecord(): CallContext | undefined {
    return this.currentContext();
  }

  private start(call: RunningCall): void {
    this.begin(call);
    let out: unknown;
    try {
      out = this.execute(call);
    } catch (error) {
      this.finish(call, true, error);
      return;
    }
    this.conclude(call, out);
  }

  /** A call is about to run its method. */
  private begin(call: RunningCall): void {
    this.hooks.onStart?.(call.id);
    this.running.add(call);
    call.startedAt = this.clock.now();
  }

  /** What a started call's method returned: a plain value settles it, a thenable once it settles. */
  private conclude(call: RunningCall, out: unknown): void {
    if (isPlainValue(out)) {
      this.finish(call, false, out);
      return;
    }
    // The value is the user's: its `then` may be a getter that throws, or a method that throws.
    // Either fails this call; it must not escape into the runtime (a stuck worker, a crash).
    let then: unknown;
    try {
      then = (out as { then?: unknown }).then;
    } catch (error) {
      this.finish(call, true, hostileThenable(this.className, call.method, "a value whose 'then' property cannot be read", error));
      return;
    }
    if (typeof then !== 'function') {
      this.finish(call, false, out);
      return;
    }
    try {
      then.call(
        out,
        (v: unknown) => this.finish(call, false, v),
        (e: unknown) => this.finish(call, true, e),
      );
    } catch (error) {
      this.finish(call, true, hostileThenable(this.className, call.method, 'a thenable whose then() threw', error));
    }
  }

  private execute(call: RunningCall): unknown {
    const fn = this.originals.get(call.method);
    if (!fn) throw unknownMethod(this.className, call.method, [...this.originals.keys()]);
    const policy = this.policyFor(call.method);
    if (policy) return this.runWithPolicy(call.method, fn, call.args, policy, call);
    if (this.maxConcurrency > 1) {
      const ctx = (call.ctx = plainContext(this, call));
      return overlappingCallContext.run(ctx, () => this.attemptLimits.track(ctx, () => fn.apply(this.instance, call.args)));
    }
    this.currentAttempt = undefined;
    this.currentCall = call;
    if (!this.attemptLimits.used) {
      const out = fn.apply(this.instance, call.args);
      // The first acquire may happen inside this very call: track it from here on.
      if (!this.attemptLimits.used) return out;
      return this.attemptLimits.releaseAfter(this.currentContext()!, out);
    }
    return this.attemptLimits.track(this.currentContext()!, () => fn.apply(this.instance, call.args));
  }

  private runWithPolicy(
    method: string,
    fn: (...a: unknown[]) => unknown,
    args: unknown[],
    policy: RetryPolicy,
    call: RunningCall | undefined,
  ): Promise<unknown> {
    const signal = call ? () => signalOf(call) : this.currentContext()?.signal;
    return executeWithRetry(
      (rctx: RetryContext) => {
        const ctx = rctx as unknown as CallContext;
        if (this.maxConcurrency > 1) return overlappingCallContext.run(ctx, () => this.attemptLimits.track(ctx, () => fn.apply(this.instance, args)));
        this.currentAttempt = ctx;
        return this.attemptLimits.track(ctx, () => fn.apply(this.instance, args));
      },
      policy,
      {
        clock: this.hooks.clock,
        random: this.hooks.random,
        methodName: method,
        args,
        workerClass: this.className,
        signal,
        emit: this.hooks.emit,
        budget: this.hooks.budget,
        afterAttempt: (rctx) => this.attemptLimits.releaseFor(rctx as unknown as CallContext),
      },
    );
  }

  private finish(call: RunningCall, failed: boolean, value: unknown): void {
    if (call.finished) return;
    this.end(call);
    if (failed) call.settler!.reject(value);
    else call.settler!.resolve(value);
    this.pump();
  }

  /** A call is no longer running (its outcome is reported next). */
  private end(call: RunningCall): void {
    call.finished = true;
    this.running.remove(call);
    if (this.currentCall === call) {
      this.currentCall = undefined;
      this.currentAttempt = undefined;
    }
  }

  private pumping = false;

  /** Starts queued calls while slots are free. A loop, not recursion: sync calls finish inside start(). */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.running.size < this.maxConcurrency && this.queueHead < this.queue.length) {
        const next = this.queue[this.queueHead];
        this.queue[this.queueHead++] = undefined as never;
        if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
          this.queue.splice(0, this.queueHead);
          this.queueHead = 0;
        }
        this.start(next);
      }
    } finally {
      this.pumping = false;
    }
    if (this.queueHead === this.queue.length && this.queueHead > 0) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
    if (this.running.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

/** A value that settles a call as it is: not an object or function, so it has no `then` to look at. */
function isPlainValue(out: unknown): boolean {
  return out === null || (typeof out !== 'object' && typeof out !== 'function');
}

function signalOf(call: RunningCall): AbortSignal {
  if (!call.controller) {
    call.controller = new AbortController();
    if (call.abortReason !== undefined) call.controller.abort(call.abortReason);
  }
  return call.controller.signal;
}

function abortCall(call: RunningCall, reason: unknown): void {
  if (call.controller) call.controller.abort(reason);
  else call.abortReason = reason;
}

/** A context built only when the method asks for it: most calls never do. */
function plainContext(runtime: WorkerRuntime, call: RunningCall): CallContext {
  return {
    methodName: call.method,
    args: call.args,
    workerClass: runtime.className,
    attempt: 1,
    get elapsedMs() {
      return performance.now() - call.startedAt;
    },
    get signal() {
      return signalOf(call);
    },
    validationErrors: [],
  };
}

function hostileThenable(className: string, method: string, what: string, error: unknown): TypeError {
  return new TypeError(`${className}.${method} returned ${what}: ${describeThrown(error)}`, { cause: error });
}
