/** The two pipes a remote worker can sit behind: a worker thread, or a forked child process. */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker as NodeWorker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './protocol.js';

export interface ExitInfo {
  code: number | null;
  signal?: NodeJS.Signals | null;
  error?: Error;
}

export interface Channel {
  readonly kind: 'thread' | 'process';
  post(msg: ToWorker): void;
  onMessage(fn: (msg: FromWorker) => void): void;
  onExit(fn: (info: ExitInfo) => void): void;
  /** Ends the thread/process now. */
  kill(): void;
  ref(): void;
  unref(): void;
}

const bootstrap = fileURLToPath(new URL('../../../workers/bootstrap.mjs', import.meta.url));

function checkBootstrap(): string {
  if (!existsSync(bootstrap)) throw new Error(`concurry: worker bootstrap not found at ${bootstrap}`);
  return bootstrap;
}

export function threadChannel(resourceLimits?: ConstructorParameters<typeof NodeWorker>[1] extends infer O ? (O extends { resourceLimits?: infer R } ? R : never) : never): Channel {
  const worker = new NodeWorker(checkBootstrap(), { resourceLimits, stdout: false, stderr: false });
  let lastError: Error | undefined;
  worker.on('error', (e) => (lastError = e));
  return {
    kind: 'thread',
    post: (msg) => worker.postMessage(msg),
    onMessage: (fn) => worker.on('message', fn),
    onExit: (fn) => worker.on('exit', (code) => fn({ code, error: lastError })),
    kill: () => void worker.terminate(),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
}

export function processChannel(): Channel {
  const child: ChildProcess = fork(checkBootstrap(), [], {
    serialization: 'advanced',
    execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect')),
    env: { ...process.env, CONCURRY_WORKER_PROCESS: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let lastError: Error | undefined;
  child.on('error', (e) => (lastError = e));
  return {
    kind: 'process',
    post: (msg) => {
      if (child.connected) child.send(msg as object);
    },
    onMessage: (fn) => child.on('message', fn as (m: unknown) => void),
    onExit: (fn) => child.on('exit', (code, signal) => fn({ code, signal, error: lastError })),
    kill: () => void child.kill('SIGKILL'),
    ref: () => {
      child.ref();
      (child as any).channel?.ref?.();
    },
    unref: () => {
      child.unref();
      (child as any).channel?.unref?.();
    },
  };
}
