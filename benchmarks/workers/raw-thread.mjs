// A raw worker_threads echo loop: one postMessage per call, pipelined — the floor a thread pool pays
// without batching.
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (x) => parentPort.postMessage(x + 1));
