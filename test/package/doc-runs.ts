/**
 * What the package test needs to run the docs' code in the installed package: a folder with the
 * `./model.js` the docs import, the checks each recipe of docs/recipes.md must pass, and a local
 * stand-in for the web APIs the recipes call.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import { repoRoot } from './consumer-project.js';

/** A folder of the consumer project for docs' code, with the `./model.js` they import (see model-companion.ts). */
export function docsFolder(full: string, name: string): string {
  const folder = join(full, 'docs-run', name);
  mkdirSync(folder, { recursive: true });
  copyFileSync(join(full, 'model-companion.ts'), join(folder, 'model.ts'));
  copyFileSync(join(repoRoot, 'examples/llm/protocol.ts'), join(folder, 'protocol.ts'));
  return folder;
}

/** What each recipe of docs/recipes.md must print when it runs; a recipe missing here fails the test. */
export const RECIPE_RUNS: { has: string; edits?: [string, string][]; env?: Record<string, string>; expect: (out: string) => void }[] = [
  // The provider answers sentiment JSON, never a person: every attempt is rejected with a reason.
  { has: 'class Extractor', expect: (out) => expect(out).toContain('gave up after 4 attempts') },
  {
    has: 'new LimitPool(',
    env: { KEY_A: 'key-a', KEY_B: 'key-b', KEY_C: 'key-c' },
    expect: (out) => expect(['key-a', 'key-b', 'key-c'].map((k) => out.split(`'${k}'`).length - 1)).toEqual([3, 3, 3]),
  },
  // 40 prompts instead of 200: the token budget then covers them at once (200 wait ~80 s for refills).
  { has: "import { LLM } from './llm.js'", edits: [['length: 200', 'length: 40']], expect: (out) => expect(out).toMatch(/^40 \{/m) },
  { has: "from './api.js'", expect: (out) => expect(out).toMatch(/retry after 503: waiting \d+ ms[\s\S]*HttpError 404/) },
  { has: 'countPrimes', expect: (out) => expect(out).toContain('primes below 2000000: 148933') },
  {
    has: "from './provider.js'",
    expect: (out) => {
      expect(out).toContain('primary complete failed (Error): using the backup');
      expect(out).toMatch(/^backup answer closed \d+$/m);
    },
  },
];

/** Stands for the web APIs the recipes call: /api (one 503, then items; 404 for /missing), /primary (always 503), /backup. */
export async function startRecipeApi(): Promise<{ url: string; close(): Promise<void> }> {
  let itemsCalls = 0;
  const server = createServer((req, res) => {
    const reply = (status: number, body: string, type = 'application/json') => res.writeHead(status, { 'content-type': type }).end(body);
    if (req.url === '/api/items') return itemsCalls++ === 0 ? reply(503, '{}') : reply(200, JSON.stringify(['item-1', 'item-2']));
    if (req.url === '/primary/complete') return reply(503, 'overloaded', 'text/plain');
    if (req.url === '/backup/complete') return reply(200, 'backup answer', 'text/plain');
    reply(404, '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

