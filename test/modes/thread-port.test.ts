import { describe, expect, it } from 'vitest';
import { createThreadPort, threadPortEnd } from '../../src/modes/ipc/thread-port.js';

/** Both ends in this thread: the doorbell works the same whichever thread reads it. */
function pair() {
  const { port, init } = createThreadPort();
  const caller = threadPortEnd<string, string>(port, init.bell, 'caller');
  const worker = threadPortEnd<string, string>(init.port, init.bell, 'worker');
  return { caller, worker, close: () => (port.close(), init.port.close()) };
}

describe('thread port with a doorbell', () => {
  it('poll() takes messages in the order they were posted, and nothing when none is waiting', () => {
    const { caller, worker, close } = pair();
    expect(worker.poll()).toBeUndefined();
    caller.post('a');
    caller.post('b');
    expect(worker.poll()).toBe('a');
    caller.post('c');
    expect([worker.poll(), worker.poll(), worker.poll()]).toEqual(['b', 'c', undefined]);
    worker.post('reply');
    expect(caller.poll()).toBe('reply');
    expect(caller.poll()).toBeUndefined();
    close();
  });

  it('messages the listener took do not confuse polling', async () => {
    const { caller, worker, close } = pair();
    const heard: string[] = [];
    worker.onMessage((m) => heard.push(m));
    caller.post('first');
    caller.post('second');
    expect(worker.poll()).toBe('first'); // taken synchronously: the listener never sees it
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard).toEqual(['second']);
    expect(worker.poll()).toBeUndefined();
    caller.post('third');
    expect(worker.poll()).toBe('third');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard).toEqual(['second']);
    close();
  });
});
