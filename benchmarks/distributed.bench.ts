/**
 * distributed: the same tiny job (x + 1) through Redis, two ways, on one redis-server:
 * - concurry `mode: 'distributed'`, a pool of 2 instances on 2 host processes (`concurry host`);
 * - plain BullMQ: a Queue and QueueEvents here, a Worker in each of 2 processes.
 * Measured: bulk throughput (all calls submitted at once), windowed throughput (64 in flight, a new
 * call per completion) and one-call-at-a-time latency p50/p99.
 * Target: ≥ 0.8× plain BullMQ's throughput. Skipped when redis-server is not installed and
 * REDIS_URL is not set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Queue, QueueEvents } from 'bullmq';
import { gather, type WorkerHandle } from '../src/index.js';
import { redisServerBinary, startRedis, type TestRedis } from '../test/helpers/redis.js';
import { DistributedAdder } from './workers/distributed-adder.js';
import { compare, machineInfo, percentile, printMachine, printTable, target, type SuiteOptions } from './lib/harness.js';

const cli = fileURLToPath(new URL('../workers/host-cli.mjs', import.meta.url));
const adderModule = fileURLToPath(new URL('./workers/distributed-adder.ts', import.meta.url));
const bullWorker = fileURLToPath(new URL('./workers/distributed-bullmq-worker.mjs', import.meta.url));
const PREFIX = 'bench-dist';
const WINDOW = 64;

function spawnReady(args: string[], marker: string, children: ChildProcess[]): Promise<void> {
  // Children get a stdin pipe (hosts also --exit-with-parent), so they end with this process whatever happens.
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

/** `promise`, or an error after `ms`: a lost completion must fail the suite, not hang it. */
function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Runs `n` calls keeping `window` in flight; `call(i)` starts call i. */
function windowed(n: number, window: number, call: (i: number) => PromiseLike<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let done = 0;
    const next = () => {
      const i = started++;
      call(i).then(() => {
        if (++done === n) resolve();
        else if (started < n) next();
      }, reject);
    };
    for (let k = 0; k < Math.min(window, n); k++) next();
  });
}

async function latencies(samples: number, once: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const us: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await once(i);
    us.push((performance.now() - t0) * 1000);
  }
  return { p50: percentile(us, 50), p99: percentile(us, 99) };
}

export async function run({ quick = false }: SuiteOptions = {}) {
  if (!process.env.REDIS_URL && !redisServerBinary()) {
    console.log('distributed: skipped — redis-server is not installed (apt-get install -y redis-server) and REDIS_URL is not set');
    return undefined;
  }
  const ops = quick ? 2_000 : 5_000;
  const windowOps = quick ? 500 : 2_000;
  const reps = quick ? 2 : 5;
  const samples = quick ? 50 : 400;
  const children: ChildProcess[] = [];
  let redis: TestRedis | undefined;
  let pool: WorkerHandle<DistributedAdder> | undefined;
  let queue: Queue | undefined;
  let events: QueueEvents | undefined;
  try {
    redis = await startRedis();
    const { Queue, QueueEvents } = await import('bullmq');
    await Promise.all([
      spawnReady([cli, 'host', '--redis', redis.url, '--prefix', PREFIX, '--module', adderModule, '--quiet', '--exit-with-parent'], 'concurry host ready', children),
      spawnReady([cli, 'host', '--redis', redis.url, '--prefix', PREFIX, '--module', adderModule, '--quiet', '--exit-with-parent'], 'concurry host ready', children),
      spawnReady([bullWorker, redis.url, 'plain', PREFIX, '16'], 'bullmq worker ready', children),
      spawnReady([bullWorker, redis.url, 'plain', PREFIX, '16'], 'bullmq worker ready', children),
    ]);
    const u = new URL(redis.url);
    const connection = { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
    // The events stream must hold every completion of a bulk run (BullMQ trims it to 10,000 by
    // default, and QueueEvents would never see the trimmed ones).
    queue = new Queue('plain', {
      connection,
      prefix: PREFIX,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
      streams: { events: { maxLen: 10 * ops } },
    });
    events = new QueueEvents('plain', { connection, prefix: PREFIX });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    pool = DistributedAdder.options({ mode: 'distributed', connection: redis.url, prefix: PREFIX, maxWorkers: 2 }).init();
    await pool.ready();
    const adder = pool;
    const q = queue;
    const ev = events;
    // Completions of plain BullMQ jobs, by job id.
    const waiting = new Map<string, () => void>();
    ev.on('completed', ({ jobId }) => {
      const w = waiting.get(jobId);
      if (w) {
        waiting.delete(jobId);
        w();
      }
    });
    let callCounter = 0;
    const bullCall = async (x: number) => {
      // Listen before adding: the completion can come back before add() resolves.
      const jobId = `c${callCounter++}`;
      const completed = new Promise<void>((resolve) => waiting.set(jobId, resolve));
      await q.add('add', { x }, { jobId });
      await completed;
    };
    let bulkCounter = 0;

    const results = await compare(
      [
        {
          name: 'concurry distributed, bulk',
          async run(n) {
            const fs = new Array(n);
            for (let i = 0; i < n; i++) fs[i] = adder.addOne(i);
            await deadline(gather(fs), 120_000, 'concurry bulk run');
          },
        },
        {
          name: 'plain BullMQ, bulk',
          async run(n) {
            const batch = bulkCounter++;
            let left = n;
            const done = new Promise<void>((resolve) => {
              for (let i = 0; i < n; i++) {
                waiting.set(`b${batch}-${i}`, () => {
                  if (--left === 0) resolve();
                });
              }
            });
            for (let start = 0; start < n; start += 1000) {
              const jobs = [];
              for (let i = start; i < Math.min(n, start + 1000); i++) jobs.push({ name: 'add', data: { x: i }, opts: { jobId: `b${batch}-${i}` } });
              await q.addBulk(jobs);
            }
            await deadline(done, 120_000, 'plain BullMQ bulk run');
          },
        },
      ],
      { ops, reps },
    );
    const windowedResults = await compare(
      [
        { name: `concurry distributed, ${WINDOW} in flight`, run: (n) => deadline(windowed(n, WINDOW, (i) => adder.addOne(i)), 120_000, 'concurry windowed run') },
        { name: `plain BullMQ, ${WINDOW} in flight`, run: (n) => deadline(windowed(n, WINDOW, (i) => bullCall(i)), 120_000, 'plain BullMQ windowed run') },
      ],
      { ops: windowOps, reps },
    );
    const ours = await latencies(samples, (i) => deadline(Promise.resolve(adder.addOne(i)), 30_000, 'concurry call'));
    const theirs = await latencies(samples, (i) => deadline(bullCall(i), 30_000, 'plain BullMQ call'));

    printMachine();
    printTable(`distributed: ${ops} tiny calls submitted at once, 2 hosts vs 2 BullMQ worker processes, one redis-server, median of ${reps}`, results, 'concurry distributed, bulk');
    printTable(`distributed: ${windowOps} tiny calls, ${WINDOW} in flight, median of ${reps}`, windowedResults, `concurry distributed, ${WINDOW} in flight`);
    const ms = (v: number) => (v / 1000).toFixed(2);
    console.log(`latency (one call at a time, ms): concurry p50 ${ms(ours.p50)} p99 ${ms(ours.p99)} · plain BullMQ (add + QueueEvents) p50 ${ms(theirs.p50)} p99 ${ms(theirs.p99)}`);
    const ratio = results[0]!.opsPerSec / results[1]!.opsPerSec;
    const windowRatio = windowedResults[0]!.opsPerSec / windowedResults[1]!.opsPerSec;
    const targets = [
      target('bulk throughput ≥ 0.8× plain BullMQ', ratio >= 0.8, `${ratio.toFixed(2)}×`),
      target(`${WINDOW}-in-flight throughput ≥ 0.8× plain BullMQ`, windowRatio >= 0.8, `${windowRatio.toFixed(2)}×`),
    ];
    return {
      suite: 'distributed',
      machine: machineInfo(),
      ops,
      windowOps,
      reps,
      results: [...results, ...windowedResults],
      latencyMicros: { concurry: ours, bullmq: theirs },
      targets,
    };
  } finally {
    await pool?.stop().catch(() => {});
    await queue?.close().catch(() => {});
    await events?.close().catch(() => {});
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    await redis?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
