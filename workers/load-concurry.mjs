// Shared by the worker entries (bootstrap.mjs, host-cli.mjs): loads one of concurry's modules from
// its TypeScript source in this repository (tests, tsx) or from dist/ in a published package, and
// registers tsx when it is installed, since user modules may be .ts files even when concurry is built.
import { existsSync } from 'node:fs';

async function registerTypeScript() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}

/**
 * Imports `src/<path>.ts` (or `dist/src/<path>.js`). Resolves to `{ module, tsx }`, where `tsx`
 * says whether TypeScript modules can be loaded; rejects when the sources are used without tsx.
 */
export async function loadConcurry(path) {
  const fromSource = new URL(`../src/${path}.ts`, import.meta.url);
  const fromBuild = new URL(`../dist/src/${path}.js`, import.meta.url);
  const useSource = existsSync(fromSource) && (process.env.CONCURRY_USE_BUILD !== '1' || !existsSync(fromBuild));
  const tsx = await registerTypeScript();
  if (useSource && !tsx) throw new Error('concurry: running from TypeScript sources needs tsx installed');
  return { module: await import(useSource ? fromSource.href : fromBuild.href), tsx };
}
