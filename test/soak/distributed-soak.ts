/**
 * The distributed fault soak (issue 22): a pool of distributed workers over several host
 * processes (independent handles, or one pool), calls kept in flight, 10% injected errors (half of them retried), while hosts are
 * SIGKILLed and replaced and Redis is restarted without persistence (every key lost). Counts
 * executions from the workers' own logs and checks: nothing lost, nothing hung, no wrong result,
 * no non-retried call run more than once (delivery 'at-most-once'), and the pool still serving.
 * Used by test/soak/distributed-soak.test.ts (small) and benchmarks/soak-distributed.bench.ts (big).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerCrashedError, transientErrors, type Future } from '../../src/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startHost, stopAll, type TestHost } from '../distributed/hosts.js';
import { SoakWorker } from './distributed-soak-worker.js';

const workerModule = fileURLToPath(new URL('./distributed-soak-worker.ts', import.meta.url));

export interface DistributedSoakOptions {
  calls: number;
  /** Calls in flight at once. */
  window?: number;
  /** Hosts up at once (a killed one is replaced). */
  hosts?: number;
  /** Instances the calls are spread over (round robin). */
  workers?: number;
  /**
   * One pool of `workers` instead of independent handles. A pool adds its own crash handling on top
   * of the transport's delivery guarantee: see the soak's test for why it is off by default.
   */
  pool?: boolean;
  /** SIGKILL a host every this many settled calls. */
  killEvery: number;
  /** Restart Redis (losing every key) after these many settled calls. */
  redisRestartsAt: number[];
  /** A call not settled within this is hung. */
  hangMs?: number;
  log?: (line: string) => void;
}

export interface DistributedSoakReport {
  calls: number;
  ok: number;
  injectedErrors: number;
  crashed: number;
  lost: number;
  hung: number;
  wrong: number;
  /** Non-retried calls that ran more than once. */
  extraExecutions: number;
  hostsKilled: number;
  redisRestarts: number;
  /** Unexpected outcomes, described (empty when all is well). */
  problems: string[];
  afterwardsOk: boolean;
  seconds: number;
}

type Plan = { kind: 'work'; x: number; fail: boolean; delay: number } | { kind: 'flaky'; x: number; okAt: number };

/** Deterministic per call, so a failing run can be read again. */
function planOf(id: number): Plan {
  const r = (id * 2654435761) % 100;
  if (r < 5) return { kind: 'work', x: id, fail: true, delay: 0 };
  if (r < 10) return { kind: 'flaky', x: id, okAt: 2 };
  return { kind: 'work', x: id, fail: false, delay: r % 7 === 0 ? 5 : 0 };
}

/** Executions of each call, as the workers logged them: `pid:instance@ms` per attempt. */
function executions(dir: string): Map<number, string[]> {
  const runs = new Map<number, string[]>();
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('exec-')) continue;
    const pid = f.slice(5, -4);
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line) continue;
      const [id, tag, at] = line.split(' ');
      let list = runs.get(Number(id));
      if (!list) runs.set(Number(id), (list = []));
      list.push(`${pid}:${tag}@${at}`);
    }
  }
  return runs;
}

export async function runDistributedSoak(o: DistributedSoakOptions): Promise<DistributedSoakReport> {
  const log = o.log ?? (() => {});
  const window = o.window ?? 100;
  const hangMs = o.hangMs ?? 90_000;
  const dir = mkdtempSync(join(tmpdir(), 'concurry-dsoak-'));
  const prefix = 'dsoak';
  let redis: TestRedis | undefined;
  let hosts: TestHost[] = [];
  const start = () => startHost({ redis: redis!.url, prefix, modules: [workerModule], leaseMs: 1000, concurrency: 8 });
  const report: DistributedSoakReport = { calls: o.calls, ok: 0, injectedErrors: 0, crashed: 0, lost: 0, hung: 0, wrong: 0, extraExecutions: 0, hostsKilled: 0, redisRestarts: 0, problems: [], afterwardsOk: false, seconds: 0 };
  const t0 = performance.now();
  const makeHandle = (maxWorkers: number) =>
    SoakWorker.options({
      mode: 'distributed',
      connection: redis!.url,
      prefix,
      maxWorkers,
      delivery: 'at-most-once',
      numRetries: { '*': 0, flaky: 3 },
      retryOn: transientErrors,
      retryWait: 5,
      retryJitter: 0,
    }).init(dir);
  let handles: ReturnType<typeof makeHandle>[] = [];
  const faults: Promise<unknown>[] = [];
  try {
    redis = await startRedis();
    hosts = await Promise.all(Array.from({ length: o.hosts ?? 2 }, start));
    const n = o.workers ?? 4;
    handles = o.pool ? [makeHandle(n)] : Array.from({ length: n }, () => makeHandle(1));
    await Promise.all(handles.map((h) => h.ready()));
    const pick = (id: number) => handles[id % handles.length]!;
    const outcomes = new Array<{ ok: boolean; value: unknown } | undefined>(o.calls);
    let settled = 0;
    let nextKill = o.killEvery;
    const restarts = [...o.redisRestartsAt].sort((a, b) => a - b);
    const onSettled = () => {
      settled++;
      if (settled >= nextKill && settled < o.calls - window) {
        nextKill += o.killEvery;
        const victim = hosts.shift()!;
        report.hostsKilled++;
        log(`soak: ${settled} settled; SIGKILL host ${victim.pid}`);
        faults.push(victim.kill().then(async () => hosts.push(await start())));
      }
      if (restarts.length > 0 && settled >= restarts[0]!) {
        restarts.shift();
        report.redisRestarts++;
        log(`soak: ${settled} settled; Redis restarted, every key lost (at ${Date.now()})`);
        faults.push(redis!.restart(300));
      }
    };
    await new Promise<void>((resolve) => {
      let started = 0;
      const launch = (): void => {
        const id = started++;
        const plan = planOf(id);
        const h = pick(id);
        const f: Future<number> = plan.kind === 'work' ? h.work(id, plan.x, plan.delay, plan.fail) : h.flaky(id, plan.x, plan.okAt);
        void f.result({ timeout: hangMs }).then(
          (value) => (outcomes[id] = { ok: true, value }),
          (error) => (outcomes[id] = { ok: false, value: error }),
        ).then(() => {
          onSettled();
          if (started < o.calls) launch();
          else if (settled === o.calls) resolve();
        });
      };
      for (let i = 0; i < Math.min(window, o.calls); i++) launch();
    });
    await Promise.all(faults);
    const execs = executions(dir);
    for (let id = 0; id < o.calls; id++) {
      const plan = planOf(id);
      const out = outcomes[id];
      const where = execs.get(id) ?? [];
      const ran = where.length;
      if (!out) {
        report.lost++;
        continue;
      }
      const expected = plan.kind === 'work' ? 2 * plan.x : 3 * plan.x;
      if (out.ok) {
        if (out.value !== expected || (plan.kind === 'work' && plan.fail)) {
          report.wrong++;
          report.problems.push(`call ${id}: got ${String(out.value)}, expected ${plan.kind === 'work' && plan.fail ? 'an error' : expected}`);
        } else report.ok++;
      } else {
        const e = out.value as Error;
        if ((e as { name?: string }).name === 'TimeoutError') {
          report.hung++;
          report.problems.push(`call ${id} (${plan.kind}) hung: not settled within ${hangMs} ms`);
        } else if (e instanceof WorkerCrashedError) report.crashed++;
        else if (plan.kind === 'work' && plan.fail && e.message === `bad request ${id}`) report.injectedErrors++;
        else {
          report.wrong++;
          report.problems.push(`call ${id} (${plan.kind}): unexpected ${e?.name}: ${e?.message}`);
        }
      }
      if (plan.kind === 'work' && ran > 1) {
        report.extraExecutions++;
        report.problems.push(`call ${id} (not retried) ran ${ran} times (${where.join(', ')}; outcome: ${out.ok ? 'ok' : (out.value as Error).name})`);
      }
      if (out.ok && ran === 0) report.problems.push(`call ${id} succeeded but no execution was logged`);
    }
    // Still serving after all that.
    const after = await Promise.all(Array.from({ length: 40 }, (_, i) => pick(i).work(o.calls + i, i, 0, false).result({ timeout: hangMs }).catch((e: unknown) => e)));
    report.afterwardsOk = after.every((v, i) => v === 2 * i);
    if (!report.afterwardsOk) report.problems.push(`afterwards: ${after.filter((v, i) => v !== 2 * i).map(String).slice(0, 3).join('; ')}`);
  } finally {
    await Promise.all(handles.map((h) => h.stop({ timeout: 1000 }).catch(() => {})));
    await Promise.allSettled(faults);
    await stopAll(hosts);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
    report.seconds = (performance.now() - t0) / 1000;
  }
  return report;
}
