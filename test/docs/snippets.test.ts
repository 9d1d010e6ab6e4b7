/**
 * Docs that compile: every ```ts block of README.md and docs/*.md type-checks against the package's
 * public entries (`concurry`, `concurry/distributed`), each block as a module of its own. A block
 * that is not meant to compile alone starts with a `// fragment` comment (see docs/writing-docs.md).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { docSnippets, layout, snippetsOf, type Snippet } from './snippets.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(root, 'test/docs/.snippets');

const companions = fileURLToPath(new URL('./companions', import.meta.url));

/** tsc on the blocks; its messages with each block's file and line put back (`docs/limits.md:12: …`). */
function typeCheck(snippets: Snippet[]): Promise<string[]> {
  rmSync(dir, { recursive: true, force: true });
  const placed = layout(snippets);
  for (const [path, s] of placed) {
    const folder = join(dir, ...path.split('/').slice(0, 2));
    if (!existsSync(join(folder, 'model.ts'))) cpSync(companions, folder, { recursive: true });
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    // `export {}` makes every block a module: top-level await, and no names shared between blocks.
    writeFileSync(join(dir, path), `${s.code}\nexport {};\n`);
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '../../..', paths: { concurry: ['../../../src/index.ts'], 'concurry/distributed': ['../../../src/distributed.ts'] } },
      include: ['**/*.ts'],
      exclude: [],
    }),
  );
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: root, maxBuffer: 16 << 20 }, (_error, stdout) => {
      const messages = String(stdout)
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const m = /^test\/docs\/\.snippets\/([^(]+)\((\d+),(\d+)\): (.*)$/.exec(line);
          const s = m && placed.get(m[1]!);
          return s ? `${s.file}:${s.line + Number(m[2])}: ${m[4]}` : line;
        });
      rmSync(dir, { recursive: true, force: true });
      resolve(messages);
    });
  });
}

describe('code blocks in the docs', () => {
  it('finds ```ts blocks and their `// fragment` marks', () => {
    const md = ['# t', '```ts', "import { Worker } from 'concurry';", '```', 'text', '```ts', '// fragment: continues the block above', 'await w.run();', '```', '```bash', 'npm test', '```'].join('\n');
    expect(snippetsOf(md, 'docs/x.md')).toEqual([
      { where: 'docs/x.md:2', file: 'docs/x.md', line: 2, code: "import { Worker } from 'concurry';", fragment: false },
      { where: 'docs/x.md:6', file: 'docs/x.md', line: 6, code: '// fragment: continues the block above\nawait w.run();', fragment: true },
    ]);
  });

  it('every ```ts block of README.md and docs/*.md type-checks against the package', async () => {
    const snippets = docSnippets(root).filter((s) => !s.fragment);
    expect(snippets.length).toBeGreaterThan(20);
    expect(await typeCheck(snippets)).toEqual([]);
  }, 120_000);
});
