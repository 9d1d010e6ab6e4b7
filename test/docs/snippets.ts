/**
 * The ```ts blocks of README.md and docs/*.md, as standalone modules to type-check against the
 * package. A block whose first line is a `// fragment` comment is shown to readers as not
 * compilable on its own (docs/contributing-docs.md) and is left out.
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
    out.push({ where: `${file}:${i + 1}`, file, line: i + 1, code, fragment: /^\s*\/\/ fragment\b/.test(lines[start] ?? '') });
    i = end;
  }
  return out;
}

/** Every ```ts block of README.md and docs/*.md under `root`. */
export function docSnippets(root: string): Snippet[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  return files.flatMap((f) => snippetsOf(readFileSync(join(root, f), 'utf8'), f));
}
