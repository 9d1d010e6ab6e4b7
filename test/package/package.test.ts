/**
 * The package as a user installs it (issue 17): built, packed and installed into fresh projects,
 * then used from plain ESM JavaScript, TypeScript under tsx, TypeScript compiled by tsc (ESM and
 * CommonJS), require(), the `concurry` CLI and a distributed host — never from src/.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProvider } from '../../examples/llm/provider.js';
import { docSnippets, layout } from '../docs/snippets.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { docsFolder, RECIPE_RUNS, startRecipeApi } from './doc-runs.js';
import { buildAndPack, consumerProject, CURRENT_TYPESCRIPT, pinned, repoRoot, run, userEnv } from './consumer-project.js';

const SETUP_MS = 300_000;
/** Whether this Node loads ES modules with require() (>= 20.19, >= 22.12). */
const REQUIRE_ESM = (process.features as { require_module?: boolean }).require_module === true;
/** Node flags that give what an older Node does: no require() of ES modules. */
const WITHOUT_REQUIRE_ESM = REQUIRE_ESM ? ['--no-experimental-require-module'] : [];
/** A provider seed whose first answer to one of the quickstart's prompts is not JSON. */
const QUICKSTART_SEED = 1;
const RUN_MS = 120_000;

/** Has the tarball, bullmq, ioredis and tsx: the runtime checks. */
let full: string;
/** Only the tarball, TypeScript (two majors) and @types/node: strict types without the optional peers. */
let bare: string;
let tarball: string;

beforeAll(async () => {
  tarball = await buildAndPack();
  [full, bare] = await Promise.all([
    consumerProject('full', tarball, [pinned('tsx'), pinned('typescript'), pinned('@types/node'), pinned('bullmq'), pinned('ioredis'), pinned('zod')]),
    consumerProject('bare', tarball, [pinned('typescript'), pinned('@types/node'), `typescript-current@npm:typescript@${CURRENT_TYPESCRIPT}`]),
  ]);
}, SETUP_MS);

const tsc = (dir: string) => join(dir, 'node_modules/typescript/bin/tsc');
const tscCurrent = (dir: string) => join(dir, 'node_modules/typescript-current/bin/tsc');

/** What Calc (test/package/consumer) returns in one mode: 2 + 3, and its QuotaError as the caller sees it. */
const expected = {
  total: 5,
  error: { isError: true, isQuota: true, name: 'QuotaError', message: 'over quota', code: 'E_QUOTA' },
};
const everyLocalMode = { sync: expected, async: expected, thread: expected, process: expected };

function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

describe('the installed package', () => {
  it('runs one worker class in sync, async, thread and process modes from plain ES module JavaScript', async () => {
    const r = await run(process.execPath, ['run.mjs'], { cwd: full });
    expect(r.stderr).toBe('');
    expect(lastJsonLine(r.stdout)).toEqual(everyLocalMode);
  }, RUN_MS);

  it('runs the same from TypeScript under tsx', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', 'ts/run.ts'], { cwd: full });
    expect(r.stderr).toBe('');
    expect(lastJsonLine(r.stdout)).toEqual(everyLocalMode);
  }, RUN_MS);

  it(`compiles strictly (skipLibCheck: false) without bullmq or ioredis installed, with TypeScript ${pinned('typescript')} and ${CURRENT_TYPESCRIPT}`, async () => {
    const [old, current] = await Promise.all([
      run(process.execPath, [tsc(bare), '-p', 'tsconfig.json', '--outDir', 'out'], { cwd: bare }),
      run(process.execPath, [tscCurrent(bare), '-p', 'tsconfig.json', '--noEmit'], { cwd: bare }),
    ]);
    expect(old.stdout + old.stderr).toBe('');
    expect(old.code).toBe(0);
    expect(current.stdout + current.stderr).toBe('');
    expect(current.code).toBe(0);
  }, RUN_MS);

  it('runs the tsc output (module NodeNext) under node, without tsx installed', async () => {
    const r = await run(process.execPath, ['out/run.js'], { cwd: bare });
    expect(r.stderr).toBe('');
    expect(lastJsonLine(r.stdout)).toEqual(everyLocalMode);
  }, RUN_MS);

  // On a Node without require(esm) the next test checks the real thing instead.
  it.skipIf(!REQUIRE_ESM)('loads through require() on Node >= 20.19 (require of ES modules)', async () => {
    const r = await run(process.execPath, ['cjs/require.cjs'], { cwd: full });
    expect(r.stderr).toBe('');
    expect(lastJsonLine(r.stdout)).toEqual({ worker: 'function', gather: 'function', sum: 5 });
  }, RUN_MS);

  it('says it is ES module only, and what to do, where require() cannot load ES modules', async () => {
    const r = await run(process.execPath, [...WITHOUT_REQUIRE_ESM, 'cjs/require.cjs'], { cwd: full });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('concurry is an ES module package and this Node.js');
    expect(r.stderr).toContain("Use `import ... from 'concurry'`");
    expect(r.stderr).toContain('Node.js 20.19+');
  }, RUN_MS);

  it('works from a TypeScript project compiled to CommonJS', async () => {
    const built = await run(process.execPath, [tsc(bare), '-p', 'cts/tsconfig.json'], { cwd: bare });
    expect(built.stdout + built.stderr).toBe('');
    if (REQUIRE_ESM) {
      const r = await run(process.execPath, ['cts/out/index.js'], { cwd: bare });
      expect(r.stderr).toBe('');
      expect(lastJsonLine(r.stdout)).toEqual({ sum: 5 });
    }
    const old = await run(process.execPath, [...WITHOUT_REQUIRE_ESM, 'cts/out/index.js'], { cwd: bare });
    expect(old.stderr).toContain('concurry is an ES module package');
  }, RUN_MS);

  it('answers `npx concurry --help` and `--version`', async () => {
    const help = await run('npx', ['concurry', '--help'], { cwd: full });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: concurry host --module <file>');
    const version = await run('npx', ['concurry', '--version'], { cwd: full });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(pinnedVersion());
  }, RUN_MS);
});

function pinnedVersion(): string {
  return (JSON.parse(readFileSync(join(full, 'node_modules/concurry/package.json'), 'utf8')) as { version: string }).version;
}

describe('the README quickstart, as a user copies it', () => {
  it('runs in thread mode against the simulated provider: answers are JSON, rejected outputs are retried with feedback', async () => {
    const [quickstart] = docSnippets(repoRoot).filter((s) => s.file === 'README.md');
    const folder = docsFolder(full, 'quickstart');
    writeFileSync(join(folder, 'main.ts'), quickstart!.code);
    // Seeded so that some first answers are not JSON: the validator must reject them and the retry,
    // told why, is repaired by the provider.
    const provider = await startProvider({ seed: QUICKSTART_SEED, malformedRate: 0.5, latency: 5, rpm: 10_000, tpm: 1_000_000 });
    try {
      const r = await run(process.execPath, ['--import', 'tsx', 'docs-run/quickstart/main.ts'], { cwd: full, env: userEnv({ PROVIDER_URL: provider.url, API_KEY: 'sk-test' }) });
      expect(r.code, r.stderr).toBe(0);
      const stats = provider.stats();
      const answers = [...r.stdout.matchAll(/'(\{.*?\})'/g)].map((m) => JSON.parse(m[1]!) as { sentiment: string });
      expect(answers.map((a) => a.sentiment)).toEqual(['positive', 'negative']);
      expect(stats.malformed).toBeGreaterThanOrEqual(1);
      expect(stats.repaired).toBe(stats.malformed);
      expect(stats.requests).toBe(2 + stats.malformed);
    } finally {
      await provider.close();
    }
  }, RUN_MS);
});

describe('the recipes of docs/recipes.md, run in the modes they show', () => {
  const snippets = docSnippets(repoRoot).filter((s) => s.file === 'docs/recipes.md');
  const placed = [...layout(snippets)];
  // Entries: the blocks no other block imports (unnamed ones and each example's main.ts).
  const entries = placed.filter(([, s]) => !s.name || s.name === 'main.ts');

  it.each(entries.map(([path, s]) => ({ path, where: s.where })))('$where runs', async ({ path }) => {
    const [, entry] = placed.find(([p]) => p === path)!;
    const check = RECIPE_RUNS.find((r) => entry.code.includes(r.has));
    expect(check, `${entry.where}: a recipe without a run check in RECIPE_RUNS`).toBeDefined();
    const folder = docsFolder(full, join('recipes', dirname(path)));
    for (const [p, s] of placed) if (dirname(p) === dirname(path)) writeFileSync(join(full, 'docs-run', 'recipes', p), s.code);
    const api = await startRecipeApi();
    const provider = await startProvider({ seed: 1, latency: 2, rpm: 100_000, tpm: 10_000_000 });
    try {
      let code = entry.code;
      for (const [from, to] of check!.edits ?? []) code = code.replace(from, to);
      for (const name of ['api', 'primary', 'backup']) code = code.replaceAll(`https://${name}.example.com`, `${api.url}/${name}`);
      const file = join(folder, `run-${basename(path)}`);
      writeFileSync(file, code);
      const r = await run(process.execPath, ['--import', 'tsx', file], { cwd: folder, env: userEnv({ PROVIDER_URL: provider.url, ...check!.env }) });
      expect(r.code, r.stderr).toBe(0);
      check!.expect(r.stdout + r.stderr);
    } finally {
      await Promise.all([api.close(), provider.close()]);
    }
  }, RUN_MS);
});

describe('package hygiene', () => {
  it('publint (strict) and are-the-types-wrong find no problems in the tarball', async () => {
    const [lint, attw] = await Promise.all([
      run(process.execPath, [bin('publint'), 'run', tarball, '--strict'], { cwd: repoRoot }),
      run(process.execPath, [bin('@arethetypeswrong/cli', 'attw'), tarball, '--format', 'ascii'], { cwd: repoRoot }),
    ]);
    expect(lint.stdout + lint.stderr).toContain('All good!');
    expect(lint.code).toBe(0);
    expect(attw.stdout).toContain('No problems found');
    expect(attw.code).toBe(0);
  }, RUN_MS);

  it('ships a LICENSE, a repository field, and no maps pointing at unshipped sources', async () => {
    const files = (await run('tar', ['-tzf', tarball], { cwd: repoRoot })).stdout.split('\n').filter(Boolean);
    expect(files).toContain('package/LICENSE');
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('package/src/'))).toEqual([]);
    const installed = join(full, 'node_modules/concurry');
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toContain('Apache License');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { repository?: { url?: string }; license?: string };
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.repository?.url).toMatch(/^git\+https:\/\//);
    const index = readFileSync(join(installed, 'dist/src/index.js'), 'utf8');
    expect(index).not.toContain('sourceMappingURL');
  }, RUN_MS);
});

/** A dev tool's CLI script in the repository's node_modules. */
function bin(pkg: string, name = pkg): string {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { bin: string | Record<string, string> };
  return join(repoRoot, 'node_modules', pkg, typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[name]!);
}

describe('the installed package with a distributed host', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  }, SETUP_MS);
  afterAll(async () => {
    await redis?.stop();
  });

  it('`npx concurry host --module …` serves a distributed call', async () => {
    const host = spawn('npx', ['concurry', 'host', '--module', './calc.mjs', '--redis', redis.url, '--prefix', 'pkgtest', '--concurrency', '2', '--quiet', '--exit-with-parent'], {
      cwd: full,
      env: userEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    host.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => host.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        let stdout = '';
        host.stdout.on('data', (d: Buffer) => {
          stdout += d;
          if (stdout.includes('concurry host ready')) resolve();
        });
        void exited.then((code) => reject(new Error(`host exited with ${code} before it was ready:\n${stderr}`)));
      });
      const r = await run(process.execPath, ['run.mjs', 'distributed'], { cwd: full, env: userEnv({ CONCURRY_TEST_REDIS: redis.url }) });
      expect(r.stderr).toBe('');
      expect(lastJsonLine(r.stdout)).toEqual({ distributed: expected });
    } finally {
      host.stdin.end(); // --exit-with-parent: the host stops when its standard input closes
      expect(await exited).toBe(0);
    }
    expect(stderr).toBe('');
  }, RUN_MS);
});
