/** `thread` mode: one dedicated worker_thread per worker instance. */
import { registerMode } from './registry.js';
import { RemoteTransport } from './remote/remote-transport.js';
import { threadChannel } from './remote/channel.js';

registerMode('thread', (init) => new RemoteTransport(init, threadChannel(init.options.resourceLimits as any)));
