/**
 * The simulated provider on its own thread, as a real one is on its own machine: its event loop
 * then counts a request when it arrives, not when the client's thread gets round to reading the
 * socket. On the client's thread, a burst of work there (dispatching a batch, rendering progress,
 * a GC pause) delays the arrival stamps of some requests by tens of ms, so requests sent a window
 * apart look closer than a window to the provider — 429s a real provider would not send.
 */
import { once } from 'node:events';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startProvider, type Provider, type ProviderOptions, type ProviderStats } from './provider.js';

/** A provider on another thread: what {@link Provider} offers, asynchronously. */
export interface ProviderThread {
  readonly url: string;
  readonly options: Provider['options'];
  stats(): Promise<ProviderStats>;
  boundMs(): Promise<number>;
  setLimits(limits: { rpm?: number; tpm?: number }): Promise<void>;
  /** Closes the provider and ends its thread. */
  close(): Promise<void>;
}

type Request = { id: number; op: 'stats' | 'boundMs' | 'setLimits' | 'close'; arg?: { rpm?: number; tpm?: number } };
type Reply = { id: number; value?: unknown; error?: string };

/** Starts a provider on a new thread (it inherits this process's loaders, e.g. tsx). */
export async function startProviderThread(options: ProviderOptions = {}): Promise<ProviderThread> {
  // A worker's execArgv (--import tsx) does not apply to its entry (nodejs/node#47747): when this
  // file is TypeScript, the thread registers tsx before importing it.
  const self = JSON.stringify(import.meta.url);
  const entry = `(${self}.endsWith('.ts') ? import('tsx/esm/api').then((tsx) => tsx.register()) : Promise.resolve()).then(() => import(${self}))`;
  const thread = new Worker(entry, { eval: true, execArgv: [], workerData: { concurryDemoProvider: options } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let ended: Error | undefined;
  const failAll = (error: Error) => {
    ended ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  thread.on('message', (m: Reply | { ready: Pick<Provider, 'url' | 'options'> }) => {
    if ('ready' in m) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.value);
  });
  thread.on('error', failAll);
  thread.on('exit', (code) => failAll(new Error(`provider thread exited with code ${code}`)));
  // once() rejects on 'error'; an exit before the first message is a failure to start too.
  const exited = once(thread, 'exit').then(([code]) => Promise.reject(new Error(`provider thread exited with code ${String(code)} before it started`)));
  const [first] = (await Promise.race([once(thread, 'message'), exited])) as [{ ready: Pick<Provider, 'url' | 'options'> } | Reply];
  if (!('ready' in first)) {
    await thread.terminate();
    throw new Error(`provider thread failed to start: ${first.error}`);
  }
  const call = <T>(op: Request['op'], arg?: Request['arg']) =>
    new Promise<T>((resolve, reject) => {
      if (ended) return reject(ended);
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      thread.postMessage({ id, op, arg } satisfies Request);
    });
  return {
    url: first.ready.url,
    options: first.ready.options,
    stats: () => call<ProviderStats>('stats'),
    boundMs: () => call<number>('boundMs'),
    setLimits: (limits) => call<void>('setLimits', limits),
    close: async () => {
      await call<void>('close').catch(() => undefined);
      ended ??= new Error('the provider thread was closed');
      await thread.terminate();
    },
  };
}

async function serve(): Promise<void> {
  const port = parentPort!;
  let provider: Provider;
  try {
    provider = await startProvider((workerData as { concurryDemoProvider: ProviderOptions }).concurryDemoProvider);
  } catch (error) {
    port.postMessage({ id: 0, error: (error as Error).message } satisfies Reply);
    return;
  }
  port.postMessage({ ready: { url: provider.url, options: provider.options } });
  port.on('message', async ({ id, op, arg }: Request) => {
    try {
      let value: unknown;
      if (op === 'stats') value = provider.stats();
      else if (op === 'boundMs') value = provider.boundMs();
      else if (op === 'setLimits') provider.setLimits(arg ?? {});
      else await provider.close();
      port.postMessage({ id, value } satisfies Reply);
    } catch (error) {
      port.postMessage({ id, error: (error as Error).message } satisfies Reply);
    }
  });
}

if (!isMainThread && parentPort && (workerData as { concurryDemoProvider?: unknown } | null)?.concurryDemoProvider !== undefined) void serve();
