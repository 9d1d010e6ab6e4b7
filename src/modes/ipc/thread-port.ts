/**
 * The message port between a caller and its worker thread, with a doorbell so either end can poll
 * for the other's next message cheaply.
 *
 * Polling the port itself (`receiveMessageOnPort` in a loop) takes the port's queue lock on every
 * try, and the sender needs that lock to enqueue: a sender that finds it taken sleeps on a futex,
 * and waking it again is expensive on a VM (docs/decisions/port-doorbell.md). So each post also
 * bumps a counter in shared memory, and a poller reads only the counter until it moves.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Transferable } from 'node:worker_threads';
import { spinGate, workerSpinCounter, workerSpinLimit, type SpinGate } from './idle-spin.js';

/** What travels to a new worker thread so it can build its end (in `workerData`). */
export interface ThreadPortInit {
  port: MessagePort;
  /** Two counters: posts to the worker, posts to the caller. */
  bell: SharedArrayBuffer;
  /** How many of this process's worker threads are polling (see {@link spinGate}), and how many may. */
  spinners: SharedArrayBuffer;
  spinLimit: number;
}

export interface ThreadPortEnd<In, Out> {
  /** `transfer`: what moves instead of being copied (see serialize/transfer.ts). */
  post(message: Out, transfer?: readonly object[]): void;
  /** The next message from the other end, if one is waiting; it then reaches no listener. */
  poll(): In | undefined;
  onMessage(listener: (message: In) => void): void;
}

const TO_WORKER = 0;
const TO_CALLER = 1;

/** Creates the shared pieces: the caller keeps `port`, the worker gets `init` (transfer its port). */
export function createThreadPort(): { port: MessagePort; init: ThreadPortInit } {
  const { port1, port2 } = new MessageChannel();
  const bell = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  return { port: port1, init: { port: port2, bell, spinners: workerSpinCounter, spinLimit: workerSpinLimit() } };
}

/** The worker thread's end, with the gate its polling goes through. */
export function workerThreadPort<In, Out>(init: ThreadPortInit): ThreadPortEnd<In, Out> & { spinGate: SpinGate } {
  return { ...threadPortEnd<In, Out>(init.port, init.bell, 'worker'), spinGate: spinGate(new Int32Array(init.spinners), init.spinLimit) };
}

/** One end of the port: `caller` on the caller's side, `worker` inside the thread. */
export function threadPortEnd<In, Out>(port: MessagePort, bellBuffer: SharedArrayBuffer, side: 'caller' | 'worker'): ThreadPortEnd<In, Out> {
  const bell = new Int32Array(bellBuffer);
  const outgoing = side === 'caller' ? TO_WORKER : TO_CALLER;
  const incoming = side === 'caller' ? TO_CALLER : TO_WORKER;
  /**
   * Messages taken from the port on this side, by poll() or by the listener. While it equals the
   * other side's counter the queue is empty, and polling must not touch the port (its lock).
   */
  let taken = 0;
  return {
    post(message, transfer) {
      port.postMessage(message, transfer as readonly Transferable[] | undefined);
      Atomics.add(bell, outgoing, 1);
    },
    poll() {
      if (Atomics.load(bell, incoming) === taken) return undefined;
      const received = receiveMessageOnPort(port);
      if (received === undefined) return undefined;
      taken = (taken + 1) | 0; // wraps like the Int32 counter
      return received.message as In;
    },
    onMessage(listener) {
      port.on('message', (message: In) => {
        taken = (taken + 1) | 0;
        listener(message);
      });
    },
  };
}
