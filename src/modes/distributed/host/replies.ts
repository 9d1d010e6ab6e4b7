/**
 * Results and events on their way back: everything a host posts for a caller in one tick goes to
 * that caller's reply list as one element.
 */
import { encodeError } from '../../../serialize/errors.js';
import { redactSecrets } from '../connection.js';
import type { ScriptClient } from '../lua.js';
import { pack, REPLY_TTL_MS, TAG_MESSAGES, type HostMessage, type Keys, type WireResult } from '../wire.js';
import { messageOf } from './log.js';

const TAG_MESSAGE_BYTE = Buffer.from([TAG_MESSAGES]);

export interface OutboxDeps {
  /** The host's command connection (read on each flush: it exists only once the host started). */
  client(): ScriptClient;
  keys: Keys;
  /** The class name of an instance, for an error about one of its results. */
  className(instanceId: string): string | undefined;
  log(line: string): void;
}

export class Outbox {
  private outbox = new Map<string, HostMessage[]>();
  private flushScheduled = false;

  constructor(private readonly deps: OutboxDeps) {}

  /** Queues a message for a caller; everything queued in one tick goes as one list element. */
  post(callerId: string, msg: HostMessage): void {
    let list = this.outbox.get(callerId);
    if (!list) this.outbox.set(callerId, (list = []));
    const last = list[list.length - 1];
    if (msg.t === 'r' && last?.t === 'r' && last.i === msg.i) last.b.push(...msg.b);
    else list.push(msg);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => void this.flush());
    }
  }

  flush(): Promise<unknown> {
    this.flushScheduled = false;
    if (this.outbox.size === 0) return Promise.resolve();
    const outbox = this.outbox;
    this.outbox = new Map();
    const client = this.deps.client();
    // Plain commands, not a pipeline: on a connection with BullMQ's scripts defined, each ioredis
    // pipeline copies every script method, which costs more than the commands themselves.
    const sent: Promise<unknown>[] = [];
    for (const [callerId, messages] of outbox) {
      const key = this.deps.keys.reply(callerId);
      const elements = encodeMessages(messages, (i) => this.deps.className(i)).map((b) => Buffer.concat([TAG_MESSAGE_BYTE, b]));
      sent.push(client.rpush(key, ...elements), client.pexpire(key, REPLY_TTL_MS));
    }
    return Promise.all(sent).catch((error) => this.deps.log(`could not send results: ${redactSecrets(messageOf(error))}`));
  }
}

/** Packs a caller's messages; a result that cannot be encoded fails alone, with a clear error. */
function encodeMessages(messages: HostMessage[], className: (instanceId: string) => string | undefined): Buffer[] {
  try {
    return [pack(messages)];
  } catch {
    const out: Buffer[] = [];
    for (const m of messages) {
      try {
        out.push(pack([m]));
        continue;
      } catch {
        /* below */
      }
      if (m.t !== 'r') continue;
      const results: WireResult[] = m.b.map((r) => {
        try {
          pack(r);
          return r;
        } catch (error) {
          const cls = className(m.i) ?? 'worker';
          return [r[0], false, encodeError(new TypeError(`The result of ${cls} call ${r[0]} cannot be sent back from the worker: ${messageOf(error)}`))];
        }
      });
      out.push(pack([{ ...m, b: results }]));
    }
    return out;
  }
}
