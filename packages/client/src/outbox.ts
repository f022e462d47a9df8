import { RoomcastError } from './errors.js';

/** One request on its way to the server, waiting for its `reply`. */
export interface Pending {
  /** The request's `ref`; replies are matched by it. */
  readonly ref: number;
  /** The encoded request, written again unchanged after a reconnect when `onDrop` is 'resend'. */
  readonly frame: string | Uint8Array;
  /**
   * What a dropped connection does to it once written: 'resend' (safe to repeat: the server
   * deduplicates or the request changes nothing), 'reject' (the outcome is unknown and a repeat
   * could act twice), or 'forget' (its owner re-creates it, e.g. a room's join).
   */
  readonly onDrop: 'resend' | 'reject' | 'forget';
  /** Handed to the current connection (perhaps still waiting for rate budget). */
  queued: boolean;
  /** Actually written to the current connection. */
  sent: boolean;
  settle(reply: Reply): void;
  fail(error: RoomcastError): void;
  /** Checks it again once the server's limits are known (a send queued before the first welcome). */
  recheck?: () => RoomcastError | null;
}

/** A server reply as the client sees it: ok with op-specific fields, or an error body. */
export type Reply =
  | ({ ok: true } & Record<string, unknown>)
  | { ok: false; error: { code: string; message: string } };

/** A queued `send`/`dm`: a Pending that lives until acknowledged, across reconnects. */
export interface OutboxEntry extends Pending {
  /** The client message id, the same for every retry. */
  readonly id: string;
}

/**
 * Sends not yet acknowledged, in the order they were made. Bounded: a client offline for long
 * refuses new sends (`outbox_full`) instead of growing without limit.
 */
export class Outbox {
  private readonly entries = new Map<number, OutboxEntry>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Throws `outbox_full` when `limit` sends are already waiting. */
  add(entry: OutboxEntry): void {
    if (this.entries.size >= this.limit) {
      throw new RoomcastError(
        'outbox_full',
        `${this.limit} messages are still waiting to be acknowledged; wait for the connection to come back, or raise outboxLimit`,
      );
    }
    this.entries.set(entry.ref, entry);
  }

  get(ref: number): OutboxEntry | undefined {
    return this.entries.get(ref);
  }

  delete(ref: number): void {
    this.entries.delete(ref);
  }

  /** Entries in the order they were added. */
  list(): OutboxEntry[] {
    return [...this.entries.values()];
  }

  /** Fails every entry (the client was closed) and empties the outbox. */
  failAll(error: RoomcastError): void {
    const all = this.list();
    this.entries.clear();
    for (const e of all) e.fail(error);
  }
}
