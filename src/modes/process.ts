/** `process` mode: one child process per worker instance. */
import type { TransportFactory } from './transport.js';
import { IpcTransport } from './ipc/ipc-transport.js';
import { processChannel } from './ipc/channel.js';

export const processTransport: TransportFactory = (init) => new IpcTransport(init, processChannel());
