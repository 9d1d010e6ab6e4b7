/**
 * Receives a call's outcome. A Future is a Settler; remote runtimes post a message instead.
 * A leaf so the runtime (which settles calls) and the transport contract (which carries them) share
 * it without either importing the other.
 */
export interface Settler {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}
