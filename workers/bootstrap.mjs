// Entry of every thread and process worker. Plain JS on purpose: on Node 20 a loader given to a
// Worker's execArgv does not apply to its entry file (nodejs/node#47747), so this file registers
// tsx itself when TypeScript must be loaded, then starts the host.
import { existsSync } from 'node:fs';
import { isMainThread, parentPort } from 'node:worker_threads';

const fromSource = new URL('../src/modes/remote/host.ts', import.meta.url);
const fromBuild = new URL('../dist/src/modes/remote/host.js', import.meta.url);
// In this repository (tests, tsx) the sources are there; a published package ships only dist/.
const useSource = existsSync(fromSource) && (process.env.CONCURRY_USE_BUILD !== '1' || !existsSync(fromBuild));

async function registerTypeScript() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}

// User classes may live in .ts files even when concurry itself is built: register tsx if it is there.
const tsx = await registerTypeScript();
if (useSource && !tsx) throw new Error('concurry: running from TypeScript sources needs tsx installed');
const { startHost } = await import(useSource ? fromSource.href : fromBuild.href);

if (!isMainThread && parentPort) {
  const port = parentPort;
  startHost({ post: (m) => port.postMessage(m), onMessage: (fn) => port.on('message', fn), exit: (c) => process.exit(c) });
} else if (process.send) {
  // A child process must not outlive its parent: the IPC channel closes when the parent dies, even by SIGKILL.
  process.on('disconnect', () => process.exit(0));
  startHost({
    post: (m) => {
      process.send(m);
    },
    onMessage: (fn) => process.on('message', fn),
    exit: (c) => process.exit(c),
  });
} else {
  throw new Error('concurry: workers/bootstrap.mjs is started by concurry, not directly');
}
