/**
 * What a user installs: builds the package, packs it with `npm pack`, and installs the tarball into
 * throwaway consumer projects (as `npm install ./concurry-x.y.z.tgz` in a fresh project would).
 * Done once per run of the package test, and kept in the OS temp folder keyed by the tarball's hash,
 * so a re-run with an unchanged package only re-builds and re-packs.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const consumerFiles = fileURLToPath(new URL('./consumer', import.meta.url));
const devDeps = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;

/** The newest TypeScript major checked besides the repository's own version (installed only into the consumer). */
export const CURRENT_TYPESCRIPT = '7.0.2';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a user's shell: nothing of this test runner's (vitest, loaders, concurry test switches). */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|NODE_OPTIONS|CONCURRY_|TSX_|npm_)/i.test(k) || k === 'TEST' || k === 'NODE_ENV') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs a command to completion; never rejects on a non-zero exit (the result says it). */
export function run(file: string, args: string[], options: ExecFileOptions & { cwd: string }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env: userEnv(), timeout: 120_000, maxBuffer: 16 << 20, ...options }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function mustRun(what: string, file: string, args: string[], cwd: string): Promise<string> {
  const r = await run(file, args, { cwd });
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `npm run build` then `npm pack`: the tarball's path. */
export async function buildAndPack(): Promise<string> {
  // No build first, and no dist/ left from one: `npm pack` must build the package itself (prepack),
  // or a publisher's tarball would carry whatever dist/ was on disk.
  rmSync(join(repoRoot, 'dist'), { recursive: true, force: true });
  const dest = join(tmpdir(), 'concurry-package-test');
  mkdirSync(dest, { recursive: true });
  const out = await mustRun('npm pack', 'npm', ['pack', '--json', '--pack-destination', dest], repoRoot);
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[];
  return join(dest, info!.filename);
}

/**
 * A consumer project with the tarball and `deps` installed (from the npm cache when it has them),
 * and the files of test/package/consumer copied in. Reused when the same tarball and deps were
 * installed before.
 */
export async function consumerProject(name: string, tarball: string, deps: string[]): Promise<string> {
  const key = createHash('sha256').update(readFileSync(tarball)).update(deps.join(' ')).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'concurry-package-test', `${name}-${key}`);
  const ready = join(dir, '.installed');
  if (!existsSync(ready)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }, null, 2));
    await mustRun(`npm install in ${dir}`, 'npm', ['install', tarball, ...deps, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
    writeFileSync(ready, '');
  }
  cpSync(consumerFiles, dir, { recursive: true });
  return dir;
}

/** A dependency spec pinned to the version this repository tests with. */
export function pinned(name: string, alias?: string): string {
  const version = devDeps[name];
  if (!version) throw new Error(`${name} is not a devDependency of concurry`);
  return alias ? `${alias}@npm:${name}@${version}` : `${name}@${version}`;
}
