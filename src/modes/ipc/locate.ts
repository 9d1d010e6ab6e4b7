/**
 * Where another thread/process can import a worker class from. In order: the `module` option;
 * a static `module` property on the class (the one line: `static module = import.meta.url`);
 * then, automatically, the files on the call stack of `init()` — the file that creates a worker
 * usually defines or imports its class. The worker tries them in order and checks the export.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, resolve } from 'node:path';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function toUrl(spec: string): string {
  if (/^(file|data|node):/.test(spec)) return spec;
  return pathToFileURL(resolve(spec)).href;
}

/** Files on the current stack outside this package and node internals, innermost first. */
function stackFiles(): string[] {
  const stack = new Error().stack ?? '';
  const files: string[] = [];
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+\.[cm]?[jt]sx?)(?::\d+){0,2}\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const file = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    if (file.startsWith(packageRoot + '/src/') || file.startsWith(packageRoot + '/dist/') || file.includes('/node_modules/')) continue;
    if (!files.includes(file)) files.push(file);
  }
  return files;
}

export function moduleCandidates(workerClass: object, moduleOption: unknown): string[] {
  const out: string[] = [];
  if (typeof moduleOption === 'string') out.push(toUrl(moduleOption));
  const declared = (workerClass as { module?: unknown }).module;
  if (typeof declared === 'string') out.push(toUrl(declared));
  if (out.length === 0) for (const f of stackFiles()) out.push(pathToFileURL(f).href);
  return out;
}
