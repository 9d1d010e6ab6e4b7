// Runs Calc in every local mode (or the modes given as arguments) and prints one JSON line.
import { registerErrorClass } from 'concurry';
import { Calc, QuotaError } from './calc.mjs';

// Your own error classes keep instanceof across threads and processes once registered (docs/modes.md).
registerErrorClass(QuotaError);

const modes = process.argv.slice(2);
const extra = process.env.CONCURRY_TEST_REDIS ? { connection: process.env.CONCURRY_TEST_REDIS, prefix: 'pkgtest' } : {};
const out = {};
for (const mode of modes.length ? modes : ['sync', 'async', 'thread', 'process']) {
  const calc = Calc.options({ mode, ...(mode === 'distributed' ? extra : {}) }).init();
  try {
    await calc.add(2);
    const total = await calc.add(3);
    const error = await calc.fail().then(() => undefined, (e) => e);
    out[mode] = { total, error: { isError: error instanceof Error, isQuota: error instanceof QuotaError, name: error?.name, message: error?.message, code: error?.code } };
  } finally {
    await calc.stop();
  }
}
console.log(JSON.stringify(out));
