/**
 * `npm run bench` runs every suite; `npm run bench -- <suite> [<suite>…]` runs some;
 * `--quick` runs each for a moment (CI uses it so the harness can't rot).
 * Each suite is benchmarks/<suite>.bench.ts exporting `run({ quick })`; its result object is
 * written to benchmarks/results/<suite>.json and what it printed to benchmarks/results/<suite>.txt
 * (not in quick mode, so quick runs never overwrite the numbers the docs quote).
 * `npm run bench:report` then writes docs/performance.md from those files.
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = args.filter((a) => !a.startsWith('--'));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();

const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`Unknown suite(s): ${unknown.join(', ')}. Available: ${available.join(', ')}`);
  process.exit(2);
}

let failed = false;
for (const suite of wanted.length ? wanted : available) {
  console.log(`\n=== ${suite}${quick ? ' (quick)' : ''} ===`);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => {
    printed.push(parts.map(String).join(' '));
    log(...parts);
  };
  try {
    const mod = await import(pathToFileURL(join(here, `${suite}.bench.ts`)).href);
    const result = await mod.run({ quick });
    if (!quick && result) {
      mkdirSync(join(here, 'results'), { recursive: true });
      const date = new Date().toISOString();
      writeFileSync(join(here, 'results', `${suite}.json`), JSON.stringify({ ...result, date }, null, 2));
      writeFileSync(join(here, 'results', `${suite}.txt`), `$ npm run bench -- ${suite}   # ${date}\n${printed.join('\n')}\n`);
    }
  } catch (error) {
    failed = true;
    console.error(`suite ${suite} failed:`, error);
  } finally {
    console.log = log;
  }
}
process.exit(failed ? 1 : 0);
