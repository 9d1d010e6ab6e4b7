/**
 * The ```ts blocks of README.md and docs/*.md, as standalone modules to type-check against the
 * package. A block whose first line is a `// fragment` comment is shown to readers as not
 * compilable on its own (docs/writing-docs.md) and is left out. A block whose first line names a
 * file (`// llm.ts`) is that module: the blocks after it on the same page may import it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Snippet {
  /** Where it is: `docs/limits.md:42` (the line of its opening fence). */
  where: string;
  file: string;
  line: number;
  code: string;
  fragment: boolean;
  /** The file a block says it is, by a first-line comment like `// workers/llm.ts`; other blocks of the same page import it. */
  name?: string;
}

const FENCE = /^```ts\s*$/;

/** The ```ts blocks of one Markdown text. */
export function snippetsOf(markdown: string, file: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    const code = lines.slice(start, end).join('\n');
    const first = lines[start] ?? '';
    const name = /^\/\/ ([\w./-]+\.ts)\b/.exec(first)?.[1];
    out.push({ where: `${file}:${i + 1}`, file, line: i + 1, code, fragment: /^\s*\/\/ fragment\b/.test(first), ...(name ? { name } : {}) });
    i = end;
  }
  return out;
}

/** Every ```ts block of README.md and docs/*.md under `root`. */
export function docSnippets(root: string): Snippet[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  return files.flatMap((f) => snippetsOf(readFileSync(join(root, f), 'utf8'), f));
}

/**
 * Where each block goes: one folder per page, and a new folder when a named block starts the next
 * example (its name is taken, or the example so far already imported its modules), so a page's
 * modules import each other as the page shows.
 */
export function layout(snippets: Snippet[]): Map<string, Snippet> {
  const out = new Map<string, Snippet>();
  let page = '';
  let group = 0;
  let names = new Set<string>();
  let imported = false; // a block of this group imports a sibling: the next named block starts a new example
  for (const s of snippets) {
    if (s.file !== page) [page, group, names, imported] = [s.file, 0, new Set(), false];
    if (s.name && (names.has(s.name) || imported)) [group, names, imported] = [group + 1, new Set(), false];
    if (s.name) names.add(s.name);
    for (const m of s.code.matchAll(/from '\.\/([\w./-]+)\.js'/g)) if (names.has(`${m[1]}.ts`)) imported = true;
    out.set(join(s.file.replace(/[/.]/g, '_'), `g${group}`, s.name ?? `block_${s.line}.ts`), s);
  }
  return out;
}

