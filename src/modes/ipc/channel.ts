/** The two pipes a worker thread or child process can sit behind: a worker thread, or a forked child process. */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker as NodeWorker, receiveMessageOnPort } from 'node:worker_threads';
import { createThreadPort, threadPortEnd } from './thread-port.js';
import { fileMarker, sharedMarker, type StartedMarkerReader } from './started-marker.js';
import type { FromWorker, ToWorker } from './protocol.js';
import type { ResourceLimitsOption } from '../transport.js';

export interface ExitInfo {
  code: number | null;
  signal?: NodeJS.Signals | null;
  error?: Error;
}

export interface Channel {
  readonly kind: 'thread' | 'process';
  /** The worker thread's id (thread channels). */
  readonly threadId?: number;
  /** `transfer`: buffers and ports to move, not copy; a process channel copies them (it can't move). */
  post(this: void, msg: ToWorker, transfer?: readonly object[]): void;
  onMessage(fn: (msg: FromWorker) => void): void;
  /**
   * Thread channels: takes the next message from the worker synchronously, if one is queued, without
   * going through the event loop (see {@link IdleSpin}). It is delivered to no listener.
   */
  poll?(this: void): FromWorker | undefined;
  /**
   * Called once the worker is gone and everything it sent has been delivered (a process's 'close',
   * not its 'exit', which can come before its last messages).
   */
  onExit(fn: (info: ExitInfo) => void): void;
  /** Which calls the worker started (see started-marker.ts); readable until onExit's callback returns. */
  readonly started: StartedMarkerReader;
  /** Ends the thread/process now. */
  kill(): void;
  ref(): void;
  unref(): void;
}

// workers/ sits at the package root: three folders up from src/modes/ipc/ (sources, tests),
// four from dist/src/modes/ipc/ (the published build).
const bootstrapCandidates = ['../../../workers/bootstrap.mjs', '../../../../workers/bootstrap.mjs'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
const bootstrap = bootstrapCandidates.find((p) => existsSync(p)) ?? bootstrapCandidates[0];

/**
 * The parent's Node flags that a worker should share: module loaders and resolution conditions.
 * Everything else (notably `-e <code>` and `--inspect`) would re-run the parent or clash.
 */
export function inheritedExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const withValue = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C']);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.split('=')[0];
    if (withValue.has(name)) {
      out.push(a);
      if (!a.includes('=') && i + 1 < argv.length) out.push(argv[++i]);
    } else if (a === '--enable-source-maps' || a === '--no-warnings' || a.startsWith('--experimental-')) {
      out.push(a);
    } else if (a === '-e' || a === '--eval' || a === '-p' || a === '--print' || a === '--input-type') {
      if (!a.includes('=')) i++;
    }
  }
  return out;
}

function checkBootstrap(): string {
  if (!existsSync(bootstrap)) throw new Error(`concurry: worker bootstrap not found at ${bootstrapCandidates.join(' or ')}: is the package installed completely?`);
  return bootstrap;
}

export function threadChannel(resourceLimits?: ResourceLimitsOption): Channel {
  // A port of our own rather than the worker's built-in one: only a MessagePort can be read
  // synchronously, which is what lets the caller poll for a reply (see ThreadPortEnd).
  const { port, init } = createThreadPort();
  const started = sharedMarker();
  const end = threadPortEnd<FromWorker, ToWorker>(port, init.bell, 'caller');
  const worker = new NodeWorker(checkBootstrap(), {
    resourceLimits,
    execArgv: inheritedExecArgv(),
    workerData: { concurryPort: init },
    transferList: [init.port],
  });
  let lastError: Error | undefined;
  let deliver: (msg: FromWorker) => void = () => {};
  worker.on('error', (e) => (lastError = e));
  end.onMessage((msg) => deliver(msg));
  return {
    kind: 'thread',
    threadId: worker.threadId,
    post: (msg, transfer) => end.post(msg, transfer),
    onMessage: (fn) => (deliver = fn),
    poll: () => end.poll(),
    started,
    onExit: (fn) =>
      worker.on('exit', (code) => {
        // Node delivers what a thread sent on its built-in port before 'exit'; on our port that is
        // up to us: what the thread said last (results, a fatal error) must not be lost.
        for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) deliver(m.message as FromWorker);
        port.close();
        fn({ code, error: lastError });
      }),
    kill: () => void worker.terminate(),
    ref: () => {
      worker.ref();
      port.ref();
    },
    unref: () => {
      worker.unref();
      port.unref();
    },
  };
}

/** The child's file descriptor of its started marker (see started-marker.ts). */
const MARKER_FD = 4;

export function processChannel(): Channel {
  const started = fileMarker(MARKER_FD);
  let child: ChildProcess;
  try {
    child = fork(checkBootstrap(), [], {
      serialization: 'advanced',
      execArgv: inheritedExecArgv(),
      env: { ...process.env, CONCURRY_WORKER_PROCESS: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', started.fd],
    });
  } catch (error) {
    started.close();
    throw error;
  }
  let lastError: Error | undefined;
  child.on('error', (e) => (lastError = e));
  return {
    kind: 'process',
    started,
    post: (msg) => {
      if (child.connected) child.send(msg);
    },
    onMessage: (fn) => child.on('message', fn as (m: unknown) => void),
    onExit: (fn) =>
      child.on('close', (code, signal) => {
        try {
          fn({ code, signal, error: lastError });
        } finally {
          started.close();
        }
      }),
    kill: () => void child.kill('SIGKILL'),
    ref: () => {
      child.ref();
      child.channel?.ref();
    },
    unref: () => {
      child.unref();
      child.channel?.unref();
    },
  };
}
