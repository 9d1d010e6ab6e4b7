// Runs Calc in every local mode and prints one JSON line; also uses the public types strictly.
import { Worker, registerErrorClass, type Mode, type WorkerHandle, type ConnectionOption, gather, ConfigError } from 'concurry';
import { Calc, QuotaError } from './calc.js';

registerErrorClass(QuotaError);

interface Outcome {
  total: number;
  error: { isError: boolean; isQuota: boolean; name?: string; message?: string; code?: unknown };
}

const out: Record<string, Outcome> = {};
const modes: Mode[] = ['sync', 'async', 'thread', 'process'];
for (const mode of modes) {
  const calc: WorkerHandle<Calc> = Calc.options({ mode }).init();
  try {
    const [, total] = await gather([calc.add(2), calc.add(3)]);
    const error = (await calc.fail().then(
      () => undefined,
      (e: unknown) => e,
    )) as (Error & { code?: unknown }) | undefined;
    out[mode] = { total, error: { isError: error instanceof Error, isQuota: error instanceof QuotaError, name: error?.name, message: error?.message, code: error?.code } };
  } finally {
    await calc.stop();
  }
}
// The distributed options type-check from the main entry without bullmq/ioredis installed.
const connection: ConnectionOption = { host: '127.0.0.1', port: 6379 };
void connection;
void Worker;
void ConfigError;
console.log(JSON.stringify(out));
