/**
 * Error messages for the two ways a thread/process worker fails to start that users meet first:
 * the class cannot be imported in the worker, or an `init()` argument cannot be sent to it. Each
 * names what is actually wrong and the one fix for it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.js';

/** What importing one candidate module gave. */
export type LocateAttempt = { url: string; error: unknown } | { url: string; error?: undefined };

const TS_FILE = /\.[cm]?tsx?$/;

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

/** Whether the module at `url` declares `class <name>` at the start of a line (read from disk; false when it cannot be read). */
function declaresClass(url: string, name: string): boolean {
  if (!url.startsWith('file:')) return false;
  try {
    // A declaration at the start of a line, not the words "class X" in a string or comment.
    return new RegExp(`^[ \\t]*(?:export[ \\t]+(?:default[ \\t]+)?)?(?:abstract[ \\t]+)?class[ \\t]+${name}\\b`, 'm').test(readFileSync(fileURLToPath(url), 'utf8'));
  } catch {
    return false;
  }
}

/** The "Fix:" of a failed class lookup: the first cause found among the attempts, most specific first. */
function fixFor(exportName: string, attempts: readonly LocateAttempt[]): string {
  const failed = attempts.filter((a) => a.error !== undefined);
  if (failed.some((a) => (a.error as { code?: string })?.code === 'ERR_UNKNOWN_FILE_EXTENSION' && TS_FILE.test(new URL(a.url).pathname))) {
    return (
      'Fix: install tsx (npm install --save-dev tsx) — thread and process workers load .ts modules through it — ' +
      "or compile the worker's module to JavaScript and point `static module` (or the `module` option) at the .js file."
    );
  }
  if (failed.some((a) => /isMainModule/.test(firstLine(a.error)))) {
    return "Fix: guard the module's top-level code that starts workers: if (isMainModule(import.meta.url)) { … } (isMainModule is exported by concurry).";
  }
  // A module that merely imports the class (a test file, the entry script) may throw in a worker for
  // its own reasons: only the module that defines the class matters.
  const definer = attempts.find((a) => declaresClass(a.url, exportName));
  if (definer?.error !== undefined) {
    return `Fix: ${definer.url} threw while the worker imported it (${firstLine(definer.error)}); make it importable without side effects that fail in a worker.`;
  }
  if (definer) return `Fix: export the class from ${definer.url}: export class ${exportName} …`;
  return `Fix: add this line inside class ${exportName}, in the file that defines it, and export the class there: static module = import.meta.url;`;
}

/** The WorkerInitError message when no candidate module gave the class. */
export function locateFailureMessage(exportName: string, attempts: readonly LocateAttempt[]): string {
  const tried = attempts.map((a) => (a.error !== undefined ? `${a.url} (import failed: ${firstLine(a.error)})` : `${a.url} (no export named ${exportName})`));
  return `Could not find class ${exportName} for a thread/process worker. Tried: ${tried.join('; ') || 'no candidate modules'}. ${fixFor(exportName, attempts)}`;
}

/** A short description of a value's type: "a function (connect)", "a Socket instance", "a symbol". */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return value.name ? `a function (${value.name})` : 'an anonymous function';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const ctor = (value).constructor;
  if (!(ctor && ctor !== Object && typeof ctor.name === 'string' && ctor.name)) return 'an object';
  return `${/^[AEIOU]/.test(ctor.name) ? 'an' : 'a'} ${ctor.name} instance`;
}

/**
 * The ConfigError for an `init()` whose arguments could not be sent to a worker: names init(), the
 * argument's position and type, and says to pass plain data. Undefined when every argument clones
 * (then `error` came from something else and is rethrown as is).
 */
export function uncloneableInitArgument(className: string, mode: string, args: readonly unknown[], error: unknown): ConfigError | undefined {
  for (const [i, arg] of args.entries()) {
    try {
      structuredClone(arg);
    } catch (cloneError) {
      const refusal = new ConfigError(
        `${className}.options(...).init(): argument ${i + 1} is ${describeType(arg)}, which cannot be sent to a ${mode} worker (${firstLine(cloneError)}). ` +
          'Pass plain data (numbers, strings, arrays, plain objects, Maps, typed arrays…) and build clients, connections or callbacks inside the worker, e.g. in its constructor.',
      );
      return Object.assign(refusal, { cause: error });
    }
  }
  return undefined;
}
