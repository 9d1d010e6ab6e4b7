/** `process` mode: one child process per worker instance. */
import { registerMode } from './registry.js';
import { IpcTransport } from './ipc/ipc-transport.js';
import { processChannel } from './ipc/channel.js';

registerMode('process', (init) => new IpcTransport(init, processChannel()));
