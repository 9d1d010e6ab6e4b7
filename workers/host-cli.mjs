#!/usr/bin/env node
// `npx concurry host --module ./workers/llm.ts [--module …] [--redis URL] [--concurrency 8]`
//
// Runs a distributed-mode host: it builds the worker classes exported by the given modules (and
// nothing else) for callers using `mode: 'distributed'` on the same Redis and prefix. Plain JS on
// purpose, like bootstrap.mjs: it registers tsx (when installed) so modules may be .ts files.
import { existsSync, readFileSync } from 'node:fs';
import { loadConcurry } from './load-concurry.mjs';

const USAGE = `usage: concurry host --module <file> [--module <file> …] [options]

  --module, -m <file>        a module whose exported worker classes (and functions, for TaskWorker)
                             this host may run; repeat for several. Nothing else is ever loaded.
  --redis <url>              redis:// or rediss:// URL (default: $CONCURRY_REDIS_URL, $REDIS_URL,
                             or redis://127.0.0.1:6379). Prefer $REDIS_PASSWORD for the password:
                             command lines are visible to other users of the machine.
  --prefix <prefix>          key prefix shared with the callers (default: concurry)
  --concurrency, -c <n>      worker instances hosted at once (default: number of CPUs)
  --lease-ms <ms>            how soon callers notice this host died (default: 10000)
  --drain-timeout-ms <ms>    on SIGTERM/SIGINT, time given to fetched calls to finish (default: 30000)
  --name <name>              name shown in logs and host info (default: hostname:pid)
  --allow-source-functions   accept functions sent as source text (TaskWorker functions, retry
                             predicates) and run them: only when every client of this Redis is trusted
  --version, -v              print concurry's version and exit
  --quiet                    no log lines (errors still go to stderr)
  --exit-with-parent         stop when standard input closes (for hosts a script spawns with a
                             stdin pipe: they end with it, even if it is killed)

environment: CONCURRY_REDIS_URL / REDIS_URL, REDIS_PASSWORD, REDIS_USERNAME, REDIS_TLS=1`;

function fail(message) {
  console.error(`concurry host: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parse(argv) {
  const out = { modules: [], allowSourceFunctions: false, quiet: false, exitWithParent: false };
  const args = [...argv];
  if (args[0] === 'host') args.shift();
  const value = (flag) => {
    if (args.length === 0 || args[0].startsWith('--')) fail(`${flag} needs a value`);
    return args.shift();
  };
  const integer = (flag, min) => {
    const raw = value(flag);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) fail(`${flag} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  while (args.length) {
    let flag = args.shift();
    if (flag.includes('=') && flag.startsWith('--')) {
      const i = flag.indexOf('=');
      args.unshift(flag.slice(i + 1));
      flag = flag.slice(0, i);
    }
    switch (flag) {
      case '--module':
      case '-m':
        out.modules.push(value(flag));
        break;
      case '--redis':
        out.redis = value(flag);
        break;
      case '--prefix':
        out.prefix = value(flag);
        break;
      case '--concurrency':
      case '-c':
        out.concurrency = integer(flag, 1);
        break;
      case '--lease-ms':
        out.leaseMs = integer(flag, 100);
        break;
      case '--drain-timeout-ms':
        out.drainTimeoutMs = integer(flag, 0);
        break;
      case '--name':
        out.name = value(flag);
        break;
      case '--allow-source-functions':
        out.allowSourceFunctions = true;
        break;
      case '--quiet':
        out.quiet = true;
        break;
      case '--exit-with-parent':
        out.exitWithParent = true;
        break;
      case '--version':
      case '-v':
        console.log(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
        process.exit(0);
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        fail(`unknown argument ${JSON.stringify(flag)}`);
    }
  }
  if (out.modules.length === 0) fail('give at least one --module');
  for (const m of out.modules) if (!/^(file|data):/.test(m) && !existsSync(m)) fail(`module not found: ${m}`);
  if (out.redis !== undefined && !/^rediss?:\/\//i.test(out.redis)) fail('--redis must be a redis:// or rediss:// URL');
  return out;
}

const options = parse(process.argv.slice(2));

// Worker modules guarded with isMainModule() must not run their main code here.
process.env.CONCURRY_WORKER_PROCESS = '1';

let loaded;
try {
  loaded = await loadConcurry('distributed');
} catch (error) {
  if (!String(error?.message).includes('needs tsx')) throw error;
  fail(error.message.replace(/^concurry: /, ''));
}
const { startHost } = loaded.module;
if (!loaded.tsx && options.modules.some((m) => /\.[cm]?tsx?$/.test(m))) fail('loading .ts modules needs tsx installed (npm install tsx)');
const log = options.quiet ? () => {} : (line) => console.error(`${new Date().toISOString()} concurry host: ${line}`);

let host;
try {
  host = await startHost({
    connection: options.redis,
    prefix: options.prefix,
    modules: options.modules,
    concurrency: options.concurrency,
    leaseMs: options.leaseMs,
    drainTimeoutMs: options.drainTimeoutMs,
    name: options.name,
    allowSourceFunctions: options.allowSourceFunctions,
    log,
  });
} catch (error) {
  console.error(`concurry host: could not start: ${error?.message ?? error}`);
  process.exit(1);
}
// One machine-readable line on stdout: supervisors and tests wait for it.
console.log(`concurry host ready ${host.id}`);

let stopping = false;
function stop(why) {
  if (stopping) process.exit(1); // second signal: leave now
  stopping = true;
  log(`${why}: stopping`);
  host.stop().then(
    () => process.exit(0),
    (error) => {
      console.error(`concurry host: error while stopping: ${error?.message ?? error}`);
      process.exit(1);
    },
  );
}
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => stop(signal));
if (options.exitWithParent) {
  process.stdin.on('end', () => stop('standard input closed'));
  process.stdin.on('error', () => stop('standard input closed'));
  process.stdin.resume();
}
