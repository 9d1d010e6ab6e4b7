// The payload suite's floor for copies: a raw worker_threads echo (structured clone both ways, no pool).
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (data) => {
  data[0] = data.length;
  parentPort.postMessage(data);
});
