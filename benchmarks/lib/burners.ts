/**
 * Background CPU burners for the "busy machine" scenarios: child processes in a busy loop, so the
 * workers under test compete for the CPUs the way they do on a machine doing other things.
 * Burners are always killed: when the scenario ends or throws, and when the bench process exits or
 * is interrupted (SIGINT/SIGTERM) meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

/**
 * A burner's program: spin, and every ~10 ms check that its parent is still the bench (a bench
 * killed by SIGKILL runs no handler; its orphaned burners then find it gone and exit).
 */
const BURN = 'const parent = process.ppid; for (;;) { for (let i = 0; i < 1e7; i++); try { process.kill(parent, 0); } catch { process.exit(0); } }';

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  // The conventional exit status of a process ended by a signal.
  process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
}

/** Runs `body` while `count` child processes each spin a CPU; kills them however `body` ends. */
export async function withBurners<T>(count: number, body: () => Promise<T>): Promise<T> {
  process.on('exit', killAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (let i = 0; i < count; i++) {
      const child = spawn(process.execPath, ['-e', BURN], { stdio: 'ignore' });
      live.add(child);
      child.on('exit', () => live.delete(child));
    }
    // Let the burners get scheduled before the first measurement.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return await body();
  } finally {
    killAll();
    process.off('exit', killAll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
