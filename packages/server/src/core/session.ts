import type { UserRef } from '@roomcast/protocol';
import type { TokenBucket } from './limits.js';

/** The transport under a session (a WebSocket in production); core never sees `ws` itself. */
export interface Connection {
  readonly id: string;
  /** Writes one pre-encoded frame; a no-op once the connection is closing. */
  send(data: Uint8Array, binary: boolean): void;
  /**
   * Sends a close frame and ends the connection. `stopReading`: read nothing more from the peer
   * meanwhile (a flooder would otherwise be parsed until the closing handshake times out).
   */
  close(code: number, reason: string, stopReading?: boolean): void;
  /** Bytes queued for this connection and not yet written to the network. */
  readonly bufferedAmount: number;
  /** Bytes the network has taken so far (only ever grows): how the core sees a reader make progress. */
  readonly taken: number;
  readonly isOpen: boolean;
  /** Resolves once the queued bytes were written (or the connection closed). */
  drained(): Promise<void>;
}

export interface User extends UserRef {
  guest: boolean;
  admin: boolean;
}

const encoder = new TextEncoder();

/** Encodes a JSON frame once; the bytes are then written to any number of connections. */
export function encodeJson(event: object): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

/** What authentication established beyond the user. */
export interface SessionAuth {
  /** Token expiry, ms since epoch; null for guests. */
  exp: number | null;
  /** Room ids or glob patterns the token lets the user join even when private. */
  rooms: string[];
}

/** Writes a frame meant for this connection alone (a reply, an error); see Outbound. */
export type ReplySink = (session: Session, data: Uint8Array) => void;

/** One connected client: its user, the rooms it receives, and the order its requests run in. */
export class Session {
  /** Rooms whose live events this connection receives. */
  readonly rooms = new Set<string>();
  /** Rooms the user is known to be a member of (saves a store look-up per send). */
  readonly memberOf = new Set<string>();
  closed = false;
  /** Closes the connection when the token expires (cleared by a refresh). */
  expiryTimer: NodeJS.Timeout | undefined;
  /** Since when queued data has waited with nothing taken (Outbound.sweep), ms; null: not stalled. */
  stalledSince: number | null = null;
  /** `conn.taken` when the stall check last looked. */
  takenAtCheck = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly conn: Connection,
    readonly user: User,
    readonly bucket: TokenBucket,
    public auth: SessionAuth,
    private readonly sink: ReplySink = (s, data) => s.conn.send(data, false),
  ) {}

  get id(): string {
    return this.conn.id;
  }

  /** Sends a reply, error or notice to this connection (counted against its send buffer). */
  sendJson(event: object): void {
    if (!this.closed) this.sink(this, encodeJson(event));
  }

  /**
   * Runs requests of one connection in arrival order: a `send` right after a `join` sees the join
   * done. A task only holds the queue until its message is handed to the store, not until commit.
   */
  enqueue(task: () => Promise<void>): void {
    // Tasks report their own failures; the catch only keeps one bug from stalling the queue.
    this.chain = this.chain.then(task).catch(() => {});
  }
}
