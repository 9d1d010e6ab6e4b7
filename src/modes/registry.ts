import type { TransportFactory } from './transport.js';

const factories = new Map<string, TransportFactory>();

/** Plugs a mode's transport into the one call path. */
export function registerMode(mode: string, factory: TransportFactory): void {
  factories.set(mode, factory);
}

export function transportFactory(mode: string): TransportFactory | undefined {
  return factories.get(mode);
}
