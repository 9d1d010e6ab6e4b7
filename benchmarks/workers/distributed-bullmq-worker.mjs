// Plain BullMQ worker process for the distributed benchmark: the same tiny job (x + 1).
// argv: redisUrl queueName prefix concurrency
import { Worker } from 'bullmq';

const [url, queueName, prefix, concurrency] = process.argv.slice(2);
const u = new URL(url);
const worker = new Worker(queueName, async (job) => job.data.x + 1, {
  connection: { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null },
  prefix,
  concurrency: Number(concurrency),
  removeOnComplete: { count: 0 },
  removeOnFail: { count: 0 },
});
worker.on('error', () => {});
await worker.waitUntilReady();
console.log('bullmq worker ready');
const stop = async () => {
  await worker.close(true);
  process.exit(0);
};
process.on('SIGTERM', stop);
// Ends with the benchmark process, even if it is killed (its stdin pipe closes).
process.stdin.on('end', stop);
process.stdin.resume();
