/** Starts `concurry host` processes for tests, and makes sure none outlives the test file. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../workers/host-cli.mjs', import.meta.url));
const fixtureModule = fileURLToPath(new URL('./fixtures/workers.ts', import.meta.url));

export interface TestHost {
  id: string;
  pid: number;
  process: ChildProcess;
  /** Output so far (stderr log lines). */
  log(): string;
  /** SIGKILL: the host dies mid-whatever, like a machine losing power. */
  kill(): Promise<void>;
  /** SIGTERM: graceful shutdown. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export interface HostArgs {
  redis: string;
  prefix: string;
  leaseMs?: number;
  concurrency?: number;
  extra?: string[];
  modules?: string[];
  env?: Record<string, string>;
}

export async function startHost(args: HostArgs): Promise<TestHost> {
  const argv = [cli, 'host', '--redis', args.redis, '--prefix', args.prefix, '--lease-ms', String(args.leaseMs ?? 1000), '--concurrency', String(args.concurrency ?? 8)];
  for (const m of args.modules ?? [fixtureModule]) argv.push('--module', m);
  // A stdin pipe and --exit-with-parent: hosts end even if the test process is killed.
  argv.push('--exit-with-parent', ...(args.extra ?? []));
  const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, REDIS_URL: '', ...args.env } });
  running.add(child);
  let out = '';
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => (running.delete(child), resolve())));
  const id = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`host did not start within 20 s:\n${out}`)), 20_000);
    child.stdout!.on('data', (d) => {
      stdout += String(d);
      const m = /concurry host ready (\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with code ${code} before it was ready:\n${out}`));
    });
  });
  return {
    id,
    pid: child.pid!,
    process: child,
    log: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function stopAll(hosts: TestHost[]): Promise<void> {
  await Promise.all(hosts.map((h) => h.kill()));
}
