/**
 * Every handle event is also published on `node:diagnostics_channel`, so APM tools can observe
 * retries, breaker changes, timeouts and crashes without touching the code that built the worker.
 * Channel names are `concurry:<event type>` (e.g. `concurry:retry`, `concurry:circuit-state`);
 * messages are the event plus `className`. Publishing costs nothing while nobody subscribes.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { RuntimeEvent, RuntimeEventType } from './events.js';

const channels = new Map<string, diagnosticsChannel.Channel>();

/** The diagnostics channel of one event type. */
export function eventChannel(type: RuntimeEventType): diagnosticsChannel.Channel {
  let channel = channels.get(type);
  if (!channel) channels.set(type, (channel = diagnosticsChannel.channel(`concurry:${type}`)));
  return channel;
}

export function publishEvent(className: string, event: RuntimeEvent): void {
  const channel = eventChannel(event.type);
  if (channel.hasSubscribers) channel.publish({ className, ...event });
}
