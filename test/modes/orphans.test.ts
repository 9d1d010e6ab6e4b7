/** A process worker must not outlive its parent, even when the parent is SIGKILLed mid-call. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('orphans', () => {
  it('a process worker busy in a CPU loop exits within seconds of its parent being SIGKILLed', async () => {
    const fixture = JSON.stringify(new URL('../fixtures/crash-workers.ts', import.meta.url).href);
    const body = `import { Busy } from ${fixture};
const w = Busy.options({ mode: 'process' }).init();
const pid = await w.pid();
void w.spin(120000).catch(() => {});
setTimeout(() => console.log(pid), 300);
setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const childPid = await new Promise<number>((resolve, reject) => {
      parent.stdout!.on('data', (d) => resolve(Number(String(d).trim())));
      parent.on('exit', () => reject(new Error('parent exited early')));
    });
    expect(alive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    // The child's main thread is in a 2-minute busy loop: only its watchdog thread can notice.
    const deadline = Date.now() + 10_000;
    while (alive(childPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(childPid)).toBe(false);
  }, 60_000);
});
