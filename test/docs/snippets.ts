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
