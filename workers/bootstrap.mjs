// Entry of every thread and process worker. Plain JS on purpose: on Node 20 a loader given to a
// Worker's execArgv does not apply to its entry file (nodejs/node#47747), so this file registers
// tsx itself when TypeScript must be loaded, then starts the host.
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { loadConcurry } from './load-concurry.mjs';

const { runWorkerHost, workerThreadPort } = (await loadConcurry('modes/ipc/worker-host')).module;

if (!isMainThread && workerData?.concurryPort) {
  runWorkerHost({ ...workerThreadPort(workerData.concurryPort), transfers: true, exit: (c) => process.exit(c) });
} else if (process.send) {
  // A child process must not outlive its parent: the IPC channel closes when the parent dies, even by
  // SIGKILL, and a watchdog thread ends the process when the main thread is too busy to notice.
  process.on('disconnect', () => process.exit(0));
  const watchdog = new Worker(new URL('./parent-watchdog.mjs', import.meta.url), {
    workerData: { parentPid: process.ppid, intervalMs: 250 },
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
  });
  watchdog.on('error', () => {}); // without it the parent's death goes unnoticed while the main thread is busy; nothing else breaks
  watchdog.unref();
  runWorkerHost({
    post: (m) => {
      process.send(m);
    },
    onMessage: (fn) => process.on('message', fn),
    exit: (c) => process.exit(c),
  });
} else {
  throw new Error('concurry: workers/bootstrap.mjs is started by concurry, not directly');
}
