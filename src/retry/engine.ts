/**
 * The retry engine: one loop for every mode, run inside the worker around each call. It retries
 * errors that `retryOn` accepts, validates outputs with `retryUntil`, waits with backoff (or the
 * server's Retry-After), respects `retryTimeout`, the retry budget and the call's AbortSignal,
 * and reports what happened as events.
 */
import { RetryValidationError } from '../errors.js';
import { sleep, systemClock, type Clock, type RandomSource } from '../clock.js';
import { summarizeError, type RuntimeEvent } from '../observability/events.js';
import { computeWait } from './backoff.js';
import { retryAfterMs } from '../classify.js';
import type { RetryBudgetClient } from './budget.js';
import type { RetryContext, RetryPolicy } from './options.js';

export type RetryEvent = RuntimeEvent;

export interface RetryEnv {
  clock?: Clock;
  random?: RandomSource;
  methodName: string;
  args: unknown[];
  workerClass: string;
  /** The call's signal, or a function creating it on first use (an AbortController per call is costly). */
  signal?: AbortSignal | (() => AbortSignal);
  emit?: (e: RetryEvent) => void;
  budget?: RetryBudgetClient;
  /** Called after every failed attempt, before the backoff sleep (the runtime releases that attempt's limits here). */
  afterAttempt?: (ctx: RetryContext) => void | Promise<void>;
}

/** How an attempt failed. */
export type Outcome = { kind: 'error'; error: unknown } | { kind: 'invalid'; result: unknown; reason: string };

/** @internal The context of one call's attempts. Its signal is created only if someone reads it. */
export class AttemptContext implements RetryContext {
  attempt = 1;
  elapsedMs = 0;
  error?: unknown;
  result?: unknown;
  validationErrors: string[] = [];

  constructor(
    readonly methodName: string,
    readonly args: unknown[],
    readonly workerClass: string,
    private signalSource: AbortSignal | (() => AbortSignal) | undefined,
  ) {}

  get signal(): AbortSignal | undefined {
    const source = this.signalSource;
    if (typeof source !== 'function') return source;
    return (this.signalSource = source());
  }
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

function shouldRetry(policy: RetryPolicy, ctx: RetryContext): boolean {
  if (!policy.retryOn) return true;
  for (const p of policy.retryOn) {
    try {
      if (p(ctx)) return true;
    } catch {
      // a predicate that throws means "don't retry" for that predicate
    }
  }
  return false;
}

export async function validate(policy: RetryPolicy, result: unknown, ctx: RetryContext): Promise<string | undefined> {
  for (let i = 0; i < policy.validators.length; i++) {
    const v = policy.validators[i];
    try {
      const verdict = await v(result, ctx);
      if (verdict === true) continue;
      if (typeof verdict === 'string') return verdict;
      return `Validator '${v.name || `#${i + 1}`}' returned ${String(verdict)}`;
    } catch (error) {
      return `Validator '${v.name || `#${i + 1}`}' raised: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return undefined;
}

/**
 * Runs `attempt` until it succeeds (and its output passes every validator), or retries run out.
 * Exhausted on errors: the last error, unchanged. Exhausted on validation: RetryValidationError.
 */
export function executeWithRetry<R>(attempt: (ctx: RetryContext) => R | Promise<R>, policy: RetryPolicy, env: RetryEnv): Promise<R> {
  const clock = env.clock ?? systemClock;
  const started = clock.now();
  env.budget?.recordCall();
  const ctx: RetryContext = new AttemptContext(env.methodName, env.args, env.workerClass, env.signal);
  // Fast path: the first attempt, no validators — no async machinery unless it fails.
  if (policy.validators.length === 0) {
    let out: R | Promise<R>;
    try {
      out = attempt(ctx);
    } catch (error) {
      return loop(attempt, policy, env, clock, started, ctx, { kind: 'error', error });
    }
    if (!isPromiseLike(out)) return Promise.resolve(out);
    return (out).then(undefined, (error) => loop(attempt, policy, env, clock, started, ctx, { kind: 'error', error }));
  }
  return loop(attempt, policy, env, clock, started, ctx, undefined);
}

async function loop<R>(
  attempt: (ctx: RetryContext) => R | Promise<R>,
  policy: RetryPolicy,
  env: RetryEnv,
  clock: Clock,
  started: number,
  ctx: RetryContext,
  firstOutcome: Outcome | undefined,
): Promise<R> {
  const state = newRetryState(ctx, clock, started, env.random);
  let outcome = firstOutcome;
  for (;;) {
    if (outcome === undefined) {
      ctx.elapsedMs = clock.now() - started;
      // ctx.error stays: the next attempt may want to know why the previous one failed.
      ctx.result = undefined;
      try {
        const result = await attempt(ctx);
        ctx.result = result;
        const reason = policy.validators.length ? await validate(policy, result, ctx) : undefined;
        if (reason === undefined) {
          if (ctx.attempt > 1) env.emit?.({ type: 'retry-success', methodName: env.methodName, attempts: ctx.attempt });
          return result;
        }
        outcome = { kind: 'invalid', result, reason };
      } catch (error) {
        outcome = { kind: 'error', error };
      }
    }
    await afterFailure(policy, env, state, outcome);
    outcome = undefined;
  }
}

/** What one call's attempts share between failures. */
export interface RetryState {
  readonly ctx: RetryContext;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly started: number;
  readonly invalidResults: unknown[];
  previousWait: number | undefined;
}

/** @internal The state of a call whose first attempt starts now (the manual loop builds one too). */
export function newRetryState(ctx: RetryContext, clock: Clock, started: number, random: RandomSource = Math.random): RetryState {
  return { ctx, clock, random, started, invalidResults: [], previousWait: undefined };
}

/**
 * @internal After a failed attempt: throws when the policy says stop (the error unchanged, or
 * RetryValidationError), else emits 'retry', sleeps the backoff (or Retry-After) and moves
 * `ctx.attempt` on. The one decision path of the engine and of `retrying()`.
 */
export async function afterFailure(policy: RetryPolicy, env: RetryEnv, state: RetryState, outcome: Outcome): Promise<void> {
  const { ctx, clock, started } = state;
  ctx.elapsedMs = clock.now() - started;
  let retryable: boolean;
  if (outcome.kind === 'invalid') {
    state.invalidResults.push(outcome.result);
    ctx.validationErrors.push(outcome.reason);
    env.emit?.({ type: 'validation-failed', methodName: env.methodName, attempt: ctx.attempt, reason: outcome.reason });
    retryable = true;
  } else {
    ctx.error = outcome.error;
    retryable = shouldRetry(policy, ctx);
  }
  await env.afterAttempt?.(ctx);
  const giveUp = (): never => {
    if (outcome.kind === 'error') {
      if (ctx.attempt > 1 || retryable) {
        env.emit?.({ type: 'retry-exhausted', methodName: env.methodName, attempts: ctx.attempt, error: summarizeError(outcome.error) });
      }
      throw outcome.error;
    }
    const err = new RetryValidationError({
      attempts: ctx.attempt,
      allResults: state.invalidResults,
      validationErrors: [...ctx.validationErrors],
      methodName: env.methodName,
    });
    env.emit?.({ type: 'retry-exhausted', methodName: env.methodName, attempts: ctx.attempt, error: summarizeError(err) });
    throw err;
  };
  if (ctx.signal?.aborted) throw ctx.signal.reason;
  if (!retryable || ctx.attempt >= policy.numRetries + 1) giveUp();
  let wait = computeWait(policy, ctx.attempt, state.random, state.previousWait);
  if (outcome.kind === 'error') {
    const pushback = retryAfterMs(outcome.error);
    if (pushback !== undefined && pushback > wait) wait = pushback;
  }
  // An adaptive budget stretches waits while most calls fail (never past retryMaxWait, unless Retry-After asked for more).
  const stretch = env.budget?.stretch?.();
  if (stretch !== undefined && stretch > 1) wait = Math.max(wait, Math.min(wait * stretch, policy.maxWait));
  if (policy.timeout !== undefined && clock.now() - started + wait > policy.timeout) giveUp();
  if (env.budget && !(await env.budget.tryRetry(ctx.attempt))) giveUp();
  state.previousWait = wait;
  env.emit?.({
    type: 'retry',
    methodName: env.methodName,
    attempt: ctx.attempt,
    delayMs: wait,
    error: outcome.kind === 'error' ? summarizeError(outcome.error) : { name: 'ValidationFailed', message: outcome.reason },
  });
  await sleep(wait, clock, ctx.signal);
  ctx.attempt++;
}
