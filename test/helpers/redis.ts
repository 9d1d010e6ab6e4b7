/**
 * A real redis-server for tests: started on a free port in a temporary directory (no persistence),
 * or the one REDIS_URL names. `stop()` kills what was started; `restart()` kills it and starts a
 * fresh one on the same port (its data is gone, as after a crash without persistence).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  url: string;
  port: number;
  /** True when this process started the server (so it may be restarted). */
  owned: boolean;
  stop(): Promise<void>;
  /** Kills the server (SIGKILL) and starts a new empty one on the same port. */
  restart(downMs?: number): Promise<void>;
  /** Kills the server (SIGKILL) for good. */
  kill(): Promise<void>;
}

/** The redis-server binary, or undefined when it is not installed. */
export function redisServerBinary(): string | undefined {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    const r = spawnSync(candidate, ['--version'], { stdio: 'ignore' });
    if (r.status === 0) return candidate;
  }
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return r.status === 0 ? 'redis-server' : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const { Socket } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts (or finds) a Redis for a test file; `password` starts one that requires it (AUTH). */
export async function startRedis(options: { password?: string } = {}): Promise<TestRedis> {
  if (process.env.REDIS_URL && !options.password) {
    const u = new URL(process.env.REDIS_URL);
    return {
      url: process.env.REDIS_URL,
      port: Number(u.port || 6379),
      owned: false,
      stop: async () => {},
      restart: async () => {
        throw new Error('restart() needs a redis-server started by the tests (REDIS_URL is set)');
      },
      kill: async () => {
        throw new Error('kill() needs a redis-server started by the tests (REDIS_URL is set)');
      },
    };
  }
  const bin = redisServerBinary();
  if (!bin) throw new Error('redis-server is not installed: apt-get install -y redis-server (or set REDIS_URL)');
  const dir = mkdtempSync(join(tmpdir(), 'concurry-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    const auth = options.password ? ['--requirepass', options.password] : [];
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no', ...auth], {
      stdio: 'ignore',
    });
    await waitForPort(port, 10_000);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  // Never leave a server behind, even when the test process is torn down abruptly.
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    owned: true,
    async stop() {
      await kill();
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
    kill,
    async restart(downMs = 200) {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
  };
}
