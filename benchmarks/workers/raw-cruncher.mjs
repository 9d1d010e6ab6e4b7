// cpu-work's floor: a raw worker_threads loop that runs its whole share of a batch from one message
// (a static split, no per-task messages) — what no pool can beat on this machine.
import { parentPort } from 'node:worker_threads';
import { crunch } from './cpu-kernel.mjs';

parentPort.on('message', ({ iterations, count }) => {
  let x = 0;
  for (let i = 0; i < count; i++) x ^= crunch(iterations);
  parentPort.postMessage(x);
});
