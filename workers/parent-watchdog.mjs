// A thread in every process worker that ends the process as soon as its parent is gone. The main
// thread notices a closed IPC channel too ('disconnect'), but only between calls: a method busy in
// a CPU loop would keep an orphan running until it returns. This thread is never busy, so it sees
// the parent go (the process is re-parented: its ppid changes) within one check interval.
import { parentPort, workerData } from 'node:worker_threads';

const { parentPid, intervalMs } = workerData;
const check = () => {
  // SIGKILL, not process.exit(): from a thread, exit() would end only this thread.
  if (process.ppid !== parentPid) process.kill(process.pid, 'SIGKILL');
};
check();
setInterval(check, intervalMs);
parentPort?.unref();
