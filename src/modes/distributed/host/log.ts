/** A host's log: every line goes to the sink the host was started with; never secrets. */

/** The message of a thrown value, whatever was thrown (its `message`, else the value itself). */
export function messageOf(error: unknown): string {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return String(message ?? error);
}

/** How long a repeated line stays quiet, ms. */
const REPEAT_QUIET_MS = 10_000;

export class HostLog {
  private readonly lastLogged = new Map<string, number>();

  constructor(private readonly sink: (line: string) => void = () => {}) {}

  line(text: string): void {
    this.sink(text);
  }

  /** Logs a line at most every 10 s (reconnect errors repeat many times a second while Redis is down). */
  once(text: string): void {
    const now = Date.now();
    const last = this.lastLogged.get(text);
    if (last !== undefined && now - last < REPEAT_QUIET_MS) return;
    if (this.lastLogged.size > 1000) this.lastLogged.clear();
    this.lastLogged.set(text, now);
    this.sink(text);
  }
}
