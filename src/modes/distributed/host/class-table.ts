/**
 * The classes a host may build: loaded once, at start, from the modules it was started with (and
 * nothing else). TaskWorker classes — concurry's own and any a module exports or extends — turn
 * data into code, so the table holds them only wrapped by the host's {@link CodeGate}.
 */
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../../errors.js';
import { CodeGate, HostRefusedError, isTaskWorkerClass, type WorkerClass } from '../security.js';
import { messageOf } from './log.js';


/** Set while a host imports worker modules: workers that locate their own module skip that (see worker/). */
const LOCATING = Symbol.for('concurry.locating');

export class ClassTable {
  private readonly classMap = new Map<string, WorkerClass>();
  private readonly functions = new Map<string, (...args: unknown[]) => unknown>();
  private readonly moduleNames: string[] = [];
  /** Everything received that must become callable passes through here (see security.ts). */
  private gate!: CodeGate;

  /** Imports the modules and builds the table; `taskWorker` is concurry's TaskWorker, hosted under its name. */
  static async load(modules: readonly string[], allowSource: boolean, taskWorker: WorkerClass): Promise<ClassTable> {
    const table = new ClassTable();
    const flags = globalThis as Record<symbol, unknown>;
    flags[LOCATING] = true;
    try {
      for (const spec of modules) await table.loadModule(spec);
    } finally {
      flags[LOCATING] = false;
    }
    table.gate = new CodeGate(allowSource, table.functions, table.moduleNames);
    for (const [name, cls] of table.classMap) if (isTaskWorkerClass(cls)) table.classMap.set(name, table.gate.taskWorkerClass(cls));
    table.classMap.set('TaskWorker', table.gate.taskWorkerClass(taskWorker));
    return table;
  }

  private async loadModule(spec: string): Promise<void> {
    const url = /^(file|data|node):/.test(spec) ? spec : pathToFileURL(resolvePath(spec)).href;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`Host could not load module ${spec}: ${messageOf(error).split('\n')[0]}`);
    }
    this.moduleNames.push(spec);
    for (const [exportName, value] of Object.entries(mod)) {
      if (typeof value !== 'function') continue;
      if (/^class[\s{]/.test(Function.prototype.toString.call(value))) {
        if (value.prototype instanceof Error) continue;
        for (const name of new Set([exportName, value.name])) {
          if (!name || name === 'default') continue;
          const existing = this.classMap.get(name);
          if (existing && existing !== value) throw new ConfigError(`Two modules export a class named ${name}; a host must know which one callers mean`);
          this.classMap.set(name, value as WorkerClass);
        }
      } else {
        this.functions.set(exportName, value as (...args: unknown[]) => unknown);
      }
    }
  }

  /** Names callers may place (TaskWorker included). */
  get names(): string[] {
    return [...this.classMap.keys()];
  }

  /** The class to build for a received name; refuses one no module of this host exports. */
  get(name: string): WorkerClass {
    const cls = this.classMap.get(name);
    if (!cls) {
      throw new HostRefusedError(
        `This host has no worker class ${name}: it builds only classes exported by the modules it was started with (${this.moduleNames.join(', ')})`,
      );
    }
    return cls;
  }

  /** Received runtime options, with their functions resolved through the code gate. */
  runtimeOptions<T>(encoded: unknown, cls: WorkerClass): T {
    return this.gate.runtimeOptions<T>(encoded, cls);
  }
}
