/** `process` mode: one child process per worker instance. */
import { registerMode } from './registry.js';
import { RemoteTransport } from './remote/remote-transport.js';
import { processChannel } from './remote/channel.js';

registerMode('process', (init) => new RemoteTransport(init, processChannel()));
