import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

/**
 * True when the module at `moduleUrl` is the program being run — and this is not a concurry
 * worker thread or child process importing it to find a worker class. Guard a script's top-level
 * work with it when the script also defines worker classes:
 *
 * ```ts
 * if (isMainModule(import.meta.url)) await main();
 * ```
 */
export function isMainModule(moduleUrl: string): boolean {
  if (!isMainThread || process.env.CONCURRY_WORKER_PROCESS === '1') return false;
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === moduleUrl;
  } catch {
    return false;
  }
}
