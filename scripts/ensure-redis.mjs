// `npm test` runs this first (pretest): the distributed suites need a redis-server binary (tests start
// their own on a free port; see test/helpers/redis.ts) or REDIS_URL naming a running server.
// Never a silent skip: it installs redis-server when it can (root with apt-get, as on a fresh Debian
// CI machine) and otherwise stops at once, printing the exact command to run.
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const CANDIDATES = ['redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'];

/**
 * What to do, from what the machine has: 'ok', 'install' (with apt-get), or 'stop' with the message
 * to print (naming the exact command).
 */
export function decide({ redisUrl, hasRedisServer, isRoot, hasAptGet, hasBrew }) {
  if (redisUrl || hasRedisServer) return { action: 'ok' };
  if (isRoot && hasAptGet) return { action: 'install' };
  const command = hasAptGet ? 'sudo apt-get install -y redis-server' : hasBrew ? 'brew install redis' : 'install redis-server (https://redis.io/docs/latest/operate/oss_and_stack/install/)';
  return {
    action: 'stop',
    message:
      'npm test needs redis-server for the distributed-mode tests, and it is not installed.\n' +
      `Run:\n\n    ${command}\n\n` +
      'then `npm test` again (or set REDIS_URL=redis://host:port to use a running server).',
  };
}

function hasRedisServer() {
  return CANDIDATES.some((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0);
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(command, args) {
  console.error(`[pretest] ${command} ${args.join(' ')}`);
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    console.error(`[pretest] \`${command} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function main() {
  const decision = decide({
    redisUrl: process.env.REDIS_URL,
    hasRedisServer: hasRedisServer(),
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    hasAptGet: has('apt-get'),
    hasBrew: has('brew'),
  });
  if (decision.action === 'ok') return;
  if (decision.action === 'stop') {
    console.error(decision.message);
    process.exit(1);
  }
  console.error('[pretest] redis-server not found: installing it (the distributed-mode tests need it)');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', 'redis-server']);
  if (!hasRedisServer()) {
    console.error('[pretest] redis-server is still not runnable after apt-get install');
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
