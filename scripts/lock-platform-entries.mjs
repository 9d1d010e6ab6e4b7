// The npm mirror these machines use serves only the linux builds of msgpackr-extract
// (an optional dependency of bullmq → msgpackr), so `npm install` here writes a lock
// without the other platforms' entries and `npm ci` then refuses it as "out of sync".
// This adds the entries a lock made against the public registry has. npm skips them at
// install time because their os/cpu do not match, so nothing is ever fetched for them.
// Run after any `npm install` that rewrites package-lock.json: `node scripts/lock-platform-entries.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const platforms = {
  'darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'darwin-x64': { os: 'darwin', cpu: 'x64' },
  'linux-arm': { os: 'linux', cpu: 'arm' },
  'linux-arm64': { os: 'linux', cpu: 'arm64' },
  'linux-x64': { os: 'linux', cpu: 'x64' },
  'win32-x64': { os: 'win32', cpu: 'x64' },
};
const parent = lock.packages['node_modules/msgpackr-extract'];
if (!parent) {
  console.log('msgpackr-extract is not in the lock; nothing to do');
  process.exit(0);
}
let added = 0;
for (const [name, version] of Object.entries(parent.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const suffix = name.replace('@msgpackr-extract/msgpackr-extract-', '');
  const platform = platforms[suffix];
  if (!platform) throw new Error(`unknown platform package ${name}`);
  lock.packages[key] = {
    version,
    cpu: [platform.cpu],
    dev: true,
    license: 'MIT',
    optional: true,
    os: [platform.os],
  };
  added++;
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} platform entries to package-lock.json`);
