/** Runs every example as a user would (`npx tsx examples/<file>`), so the docs' code can't rot. */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

const expected: Record<string, RegExp[]> = {
  'workers.ts': [/sync: a, b, c/, /async: a, b, c/, /thread: a, b, c/, /process: a, b, c/],
  'task-worker.ts': [/submit: 42/, /sum of squares below 1000: 332833500/, /task\(\): HELLO/],
  'pools.ts': [/threads used: 3/, /per-worker dispatched: 3, 3, 3/],
  'llm-validation.ts': [/attempt 1 rejected: output is not JSON/, /result: \{"name":"Ada","attempt":2\}/, /gave up after 2 attempts/],
  'limits.ts': [/30 calls at ≤ 20\/s with ≤ 2 connections took 1\.\d s/],
};

describe('examples', () => {
  const files = readdirSync(new URL('../examples', import.meta.url)).filter((f) => f.endsWith('.ts') && f !== 'demo.ts');

  it('every example has expectations here', () => {
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.keys(expected))('%s runs and prints what the docs say', async (file) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${file}`], {
      cwd: root,
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    for (const pattern of expected[file]!) expect(stdout).toMatch(pattern);
  });
});
