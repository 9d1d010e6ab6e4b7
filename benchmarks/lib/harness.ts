/**
 * The shared benchmark harness: runs each contender alternately (so drift hits all alike), repeats
 * after a warm-up, and reports medians and ratios. Suites export `run({ quick })` and return the
 * object written to benchmarks/results/<suite>.json.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Contender {
  name: string;
  /** Runs `ops` operations; returns when all are done. */
  run(ops: number): Promise<void> | void;
  setup?(): Promise<void> | void;
  teardown?(): Promise<void> | void;
}

export interface SuiteOptions {
  quick?: boolean;
}

export interface ContenderResult {
  name: string;
  /** Median operations per second. */
  opsPerSec: number;
  /** Median ns per operation. */
  nsPerOp: number;
  samples: number[];
}

export function machineInfo(): { node: string; cpus: number; cpuModel: string; platform: string } {
  const cpus = os.cpus();
  return { node: process.version, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', platform: `${os.platform()} ${os.arch()}` };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Runs contenders alternately: `reps` rounds after one warm-up round, `ops` operations each. */
export async function compare(
  contenders: Contender[],
  { ops, reps, warmupOps = ops }: { ops: number; reps: number; warmupOps?: number },
): Promise<ContenderResult[]> {
  for (const c of contenders) await c.setup?.();
  try {
    for (const c of contenders) await c.run(warmupOps);
    const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    for (let r = 0; r < reps; r++) {
      for (const c of contenders) {
        const t0 = performance.now();
        await c.run(ops);
        const ms = performance.now() - t0;
        samples.get(c.name)!.push((ops / ms) * 1000);
      }
    }
    return contenders.map((c) => {
      const s = samples.get(c.name)!;
      const opsPerSec = median(s);
      return { name: c.name, opsPerSec, nsPerOp: 1e9 / opsPerSec, samples: s };
    });
  } finally {
    for (const c of contenders) await c.teardown?.();
  }
}

/** Prints a table of results with each contender's ratio to `base`. */
export function printTable(title: string, results: ContenderResult[], base: string): void {
  const baseline = results.find((r) => r.name === base)!;
  console.log(`\n${title}`);
  console.log('contender'.padEnd(28) + 'ops/s'.padStart(14) + 'ns/op'.padStart(12) + `  ${base} ÷ this`.padStart(16));
  for (const r of results) {
    console.log(
      r.name.padEnd(28) +
        Math.round(r.opsPerSec).toLocaleString('en-US').padStart(14) +
        r.nsPerOp.toFixed(0).padStart(12) +
        (baseline.opsPerSec / r.opsPerSec === 1 ? '—' : `${(baseline.opsPerSec / r.opsPerSec).toFixed(2)}×`).padStart(16),
    );
  }
}

/** Prints a target line: met or MISSED, never hidden. */
export function target(label: string, met: boolean, detail: string): { label: string; met: boolean; detail: string } {
  console.log(`  target ${met ? 'met   ' : 'MISSED'}  ${label}: ${detail}`);
  return { label, met, detail };
}

export function printMachine(): void {
  const m = machineInfo();
  console.log(`node ${m.node} · ${m.cpus} CPUs · ${m.cpuModel} · ${m.platform}`);
}

/**
 * Runs a suite's own file again in a fresh process with `envName` set to `payload` (JSON), and
 * returns the JSON that child prints on its last line. For measurements that must not share a
 * process (JIT state, threads) with the run that asks for them.
 */
export function runInChild<T>(suiteUrl: string, envName: string, payload: unknown, extraEnv: Record<string, string> = {}): T {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(suiteUrl)], {
    env: { ...process.env, ...extraEnv, [envName]: JSON.stringify(payload) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}
