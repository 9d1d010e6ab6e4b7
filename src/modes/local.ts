/**
 * `sync` and `async` modes: the runtime lives on the caller's thread. `sync` runs each call inline
 * at call time; `async` queues calls and runs them in order on the event loop.
 */
import { WorkerRuntime } from '../runtime/runtime.js';
import type { Settler, Transport, TransportCall, TransportFactory, TransportInit } from './transport.js';

class LocalTransport implements Transport {
  private readonly runtime?: WorkerRuntime;
  /** What the constructor threw, as an Error (a non-Error throw is wrapped, as promise rejections must be). */
  private readonly initError?: Error;
  private readonly readyPromise: Promise<void>;

  constructor(init: TransportInit, inline: boolean) {
    try {
      this.runtime = new WorkerRuntime(
        init.workerClass,
        init.ctorArgs,
        { ...init.runtimeOptions, inline },
        { emit: init.onEvent, limits: init.limits, clock: init.clock, random: init.random, budget: init.budget },
      );
    } catch (error) {
      this.initError = error instanceof Error ? error : new Error(String(error));
    }
    this.readyPromise = this.initError ? Promise.reject(this.initError) : Promise.resolve();
    this.readyPromise.catch(() => {});
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  get inFlight(): number {
    return this.runtime?.pending ?? 0;
  }

  send(call: TransportCall, settler: Settler): void {
    if (!this.runtime) return settler.reject(this.initError);
    this.runtime.submit(call.id, call.method, call.args, settler);
  }

  cancel(call: TransportCall): boolean {
    return this.runtime?.cancel(call.id) ?? false;
  }

  async stop(timeoutMs: number): Promise<void> {
    await this.runtime?.shutdown(timeoutMs);
  }
}

/** `sync` mode: each call runs inline, at call time. */
export const syncTransport: TransportFactory = (init) => new LocalTransport(init, true);
/** `async` mode: calls queue and run in order on the event loop. */
export const asyncTransport: TransportFactory = (init) => new LocalTransport(init, false);
