/**
 * The retry policy for code that cannot be wrapped in a function: `retrying(options)` is an async
 * iterable of attempts whose `failed(error)` waits as the engine would, or rethrows when the policy
 * says stop; `backoffDelay(attempt, options)` gives the engine's wait for one attempt. Both run the
 * engine's own decision path (`afterFailure`) and backoff (`computeWait`): nothing is re-implemented.
 */
import { ConfigError } from '../errors.js';
import { configError } from '../config/validate.js';
import { systemClock } from '../clock.js';
import { AttemptContext, afterFailure, newRetryState, validate, type RetryEnv, type RetryState } from './engine.js';
import { computeWait } from './backoff.js';
import { retryAfterMs } from '../classify.js';
import { resolveRetryPolicy, type RetryOptions, type RetryPolicy } from './options.js';
import type { StandaloneRetryOptions } from './standalone.js';

/** Options of {@link retrying}: `retry()`'s options, plus a name for events. */
export interface RetryingOptions extends StandaloneRetryOptions {
  /** The name events carry as `methodName` (default 'retrying'). */
  name?: string;
}

/** One attempt of a {@link retrying} loop. */
export interface RetryAttempt {
  /** 1-based attempt number. */
  readonly number: number;
  /** ms since the first attempt started. */
  readonly elapsedMs: number;
  /** The error the previous attempt failed with (undefined on the first). */
  readonly lastError: unknown;
  /** Why earlier outputs were rejected by `retryUntil`, in order. */
  readonly validationErrors: readonly string[];
  /** The loop's signal (options.signal). */
  readonly signal: AbortSignal | undefined;
  /**
   * This attempt threw `error`: resolves after the policy's wait (the loop then yields the next
   * attempt), or rejects with `error` itself when the policy says stop (not retryable, retries
   * used up, retryTimeout or the budget would be exceeded, or the signal aborted).
   */
  failed(error: unknown): Promise<void>;
  /**
   * Runs the `retryUntil` validators on `result`: true = accepted (break out of the loop); false =
   * rejected, the wait is done and the loop yields the next attempt; rejects with
   * RetryValidationError when the policy says stop.
   */
  validate(result: unknown): Promise<boolean>;
}

/** Where the loop stands between two `next()` calls. */
type Phase = 'start' | 'running' | 'failing' | 'retry' | 'done';

class Attempt implements RetryAttempt {
  constructor(private readonly loop: RetryLoop, readonly number: number) {}
  get elapsedMs(): number {
    return this.loop.elapsed();
  }
  get lastError(): unknown {
    return this.loop.state.ctx.error;
  }
  get validationErrors(): readonly string[] {
    return this.loop.state.ctx.validationErrors;
  }
  get signal(): AbortSignal | undefined {
    return this.loop.state.ctx.signal;
  }
  failed(error: unknown): Promise<void> {
    return this.loop.fail(this, { kind: 'error', error });
  }
  async validate(result: unknown): Promise<boolean> {
    const reason = await this.loop.check(this, result);
    if (reason === undefined) return true;
    await this.loop.fail(this, { kind: 'invalid', result, reason });
    return false;
  }
}

class RetryLoop implements AsyncIterator<RetryAttempt> {
  readonly state: RetryState;
  private readonly env: RetryEnv;
  private phase: Phase = 'start';
  private current?: Attempt;
  private pending?: Promise<void>;

  constructor(private readonly policy: RetryPolicy, options: RetryingOptions) {
    const clock = options.clock ?? systemClock;
    this.env = {
      clock,
      random: options.random,
      signal: options.signal,
      emit: options.onEvent,
      budget: options.budget,
      methodName: options.name ?? 'retrying',
      args: [],
      workerClass: '',
    };
    this.state = newRetryState(new AttemptContext(this.env.methodName, [], '', options.signal), clock, clock.now(), options.random);
    this.env.budget?.recordCall();
  }

  elapsed(): number {
    return this.state.clock.now() - this.state.started;
  }

  async next(): Promise<IteratorResult<RetryAttempt>> {
    // A failed() the body did not await: its wait decides whether there is a next attempt.
    if (this.phase === 'failing') await this.pending!.catch(() => undefined);
    if (this.phase === 'start' || this.phase === 'retry') {
      if (this.state.ctx.signal?.aborted) throw this.state.ctx.signal.reason;
      this.phase = 'running';
      this.current = new Attempt(this, this.state.ctx.attempt);
      return { done: false, value: this.current };
    }
    // The body ran to its end without failing: that attempt succeeded.
    if (this.phase === 'running') this.succeeded();
    this.phase = 'done';
    return { done: true, value: undefined };
  }

  /**
   * `break` ends the loop: an attempt that did not call failed() succeeded. A throw out of the body
   * also lands here and cannot be told apart; it is counted the same (only the event differs).
   */
  return(): Promise<IteratorResult<RetryAttempt>> {
    // Nothing to await; the executor still turns a throwing onEvent listener into a rejection, as an async method would.
    return new Promise((resolve) => {
      if (this.phase === 'running') this.succeeded();
      this.phase = 'done';
      resolve({ done: true, value: undefined });
    });
  }

  fail(attempt: Attempt, outcome: Parameters<typeof afterFailure>[3]): Promise<void> {
    this.checkCurrent(attempt, 'failed');
    this.phase = 'failing';
    this.pending = afterFailure(this.policy, this.env, this.state, outcome).then(
      () => {
        this.phase = 'retry';
      },
      (error) => {
        this.phase = 'done';
        throw error;
      },
    );
    return this.pending;
  }

  check(attempt: Attempt, result: unknown): Promise<string | undefined> {
    this.checkCurrent(attempt, 'validate');
    this.state.ctx.result = result;
    return validate(this.policy, result, this.state.ctx);
  }

  private checkCurrent(attempt: Attempt, what: string): void {
    if (attempt !== this.current || this.phase !== 'running') {
      throw new ConfigError(`retrying(): attempt ${attempt.number}.${what}() called ${this.phase === 'done' ? 'after the loop ended' : 'twice, or for an attempt that is over'}`);
    }
  }

  private succeeded(): void {
    if (this.state.ctx.attempt > 1) this.env.emit?.({ type: 'retry-success', methodName: this.env.methodName, attempts: this.state.ctx.attempt });
  }
}

/**
 * A retry loop for code that cannot be wrapped in a function, with the same policy as `retry()`:
 *
 * ```ts
 * import { retrying, transientErrors } from 'concurry';
 *
 * for await (const attempt of retrying({ numRetries: 4, retryOn: transientErrors })) {
 *   try {
 *     await fetch('https://example.com');
 *     break;
 *   } catch (e) {
 *     await attempt.failed(e); // waits, or rethrows e when the policy says stop
 *   }
 * }
 * ```
 *
 * A body that ends without `failed()` also ends the loop (the attempt succeeded). Options are
 * checked here, with ConfigError naming the option.
 */
export function retrying(options: RetryingOptions = {}): AsyncIterable<RetryAttempt> {
  if (options === null || typeof options !== 'object') throw configError('retrying', options, 'an options object');
  if (options.name !== undefined && typeof options.name !== 'string') throw configError('name', options.name, 'a string');
  const policy = resolveRetryPolicy(options);
  return { [Symbol.asyncIterator]: () => new RetryLoop(policy, options) };
}

/** Options of {@link backoffDelay}. */
export interface BackoffDelayOptions extends RetryOptions {
  /** Randomness for jitter (default Math.random). */
  random?: () => number;
  /** The previous wait, for the 'decorrelated' algorithm (default retryWait). */
  previousWait?: number;
  /** The error the attempt failed with: its Retry-After, when longer, is the wait (as in the engine). */
  error?: unknown;
}

/**
 * The engine's wait in ms after `attempt` (1-based) failed. With the defaults and `retryJitter: 0`:
 * 1000, 2000, 4000, 8000, 16000 for attempts 1–5.
 */
export function backoffDelay(attempt: number, options: BackoffDelayOptions = {}): number {
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) throw configError('attempt', attempt, 'an integer >= 1');
  if (options === null || typeof options !== 'object') throw configError('backoffDelay', options, 'an options object');
  const { previousWait, random, error } = options;
  if (previousWait !== undefined && !(typeof previousWait === 'number' && previousWait >= 0 && Number.isFinite(previousWait))) {
    throw configError('previousWait', previousWait, 'a finite number of ms >= 0');
  }
  if (random !== undefined && typeof random !== 'function') throw configError('random', random, 'a function () => number in [0, 1)');
  const wait = computeWait(resolveRetryPolicy(options), attempt, random, previousWait);
  const pushback = error === undefined ? undefined : retryAfterMs(error);
  return pushback !== undefined && pushback > wait ? pushback : wait;
}
