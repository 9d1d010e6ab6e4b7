/**
 * How a thread/process transport hands back, after its worker died, a call the worker provably
 * never started: a pool sends it to another worker as if it were new (it is not an attempt).
 * Without a pool it surfaces as the WorkerCrashedError it is.
 */
import { WorkerCrashedError } from '../errors.js';

/** @internal a call its dead worker never started; a pool re-sends it. */
export class CallNotStartedError extends WorkerCrashedError {}
