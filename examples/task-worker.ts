/** Plain functions in worker threads: submit one, stream many with map, or make a function a worker. */
import { TaskWorker, task } from '../src/index.js';

const tw = TaskWorker.options({ mode: 'thread', maxWorkers: 2 }).init();
console.log('submit:', await tw.submit((a: number, b: number) => a * b, 6, 7));

let total = 0;
for await (const square of tw.map((x: number) => x * x, Array.from({ length: 1000 }, (_, i) => i))) total += square as number;
console.log('sum of squares below 1000:', total);
await tw.stop();

const shout = task({ mode: 'async' })((s: string) => s.toUpperCase());
console.log('task():', await shout('hello'));
await shout.stop();
