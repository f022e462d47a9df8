import { randomBytes } from 'node:crypto';
import type { UserRef } from '@roomcast/protocol';
import type { WebhookOutboxTable } from './schema-outbox.js';

// The webhook outbox as the store keeps it (issue 16): events written in the same transaction as
// the change that caused them, one row per (event, endpoint), claimed and sent by the dispatcher
// (webhooks/dispatcher.ts). Types and the routing table only; SQL is in sql-outbox.ts.

/** An event for the app's backend; `room` orders it (a room's events are sent in order). */
export interface OutboxEvent {
  id: string;
  type: string;
  ts: number;
  room: string | null;
  data: Record<string, unknown>;
}

/** One endpoint and the event types it wants (null: all). */
export interface OutboxRoute {
  endpoint: string;
  types: ReadonlySet<string> | null;
}

/** An outbox row as claimed: `body` is the event's JSON, exactly as it is POSTed. */
export interface OutboxRow {
  pos: number;
  endpoint: string;
  eventId: string;
  type: string;
  lane: string | null;
  body: string;
  /** When the event happened, ms since epoch (its age decides when it is dropped). */
  createdAt: number;
  attempts: number;
}

export interface OutboxClaim {
  endpoint: string;
  /** Who holds the lease (a node id). */
  owner: string;
  now: number;
  leaseUntil: number;
  limit: number;
}

/** An endpoint's pending rows. */
export interface OutboxBacklog {
  endpoint: string;
  pending: number;
  oldestTs: number | null;
  lastError: string | null;
}

/** A room with messages stored since `fromSeq` whose offline members may be owed message.unreached. */
export interface UnreachedCheck {
  room: string;
  fromSeq: number;
  toSeq: number;
}

/** A member of the room who has not read up to `upTo` and was not told about it. */
export interface UnreachedCandidate {
  user: UserRef;
  /** The seq after which their unread, untold messages begin. */
  after: number;
}

/** What a member missed: how many messages after `after` up to `upTo`, and the last of them. */
export interface UnreachedSummary {
  count: number;
  firstSeq: number;
  lastSeq: number;
  last: { id: string; seq: number; from: UserRef; ts: number; text?: string; mime?: string };
}

/** The store's outbox methods (SqlStore implements them in sql-outbox.ts). */
export interface OutboxPort {
  /** Which endpoints want which types; no routes (the default): nothing is ever written. */
  configureOutbox(routes: readonly OutboxRoute[], opts?: { unreachedDelayMs?: number }): void;
  /** Whether any endpoint wants events of this type (build them only then). */
  outboxWants(type: string): boolean;
  /** Called (soon) after a commit that wrote outbox rows: the dispatcher wakes up. */
  onOutboxWrite(listener: () => void): void;
  /** Writes events that change nothing stored (user.online, user.offline). */
  enqueueEvents(events: readonly OutboxEvent[]): Promise<void>;
  /** Leases up to `limit` rows due now, each the first pending one of its lane. */
  claimOutbox(claim: OutboxClaim): Promise<OutboxRow[]>;
  /** Delivered (or dropped): the row goes. */
  completeOutbox(pos: number): Promise<void>;
  /** Failed: tried again at `nextAt`, the lease released. */
  retryOutbox(pos: number, nextAt: number, error: string): Promise<void>;
  /** Releases leases (`owner` null: all of them, for a single-process store at start). */
  releaseOutboxLeases(owner: string | null): Promise<void>;
  outboxBacklog(): Promise<OutboxBacklog[]>;
  /** Leases the due unreached checks. */
  claimUnreachedChecks(claim: Omit<OutboxClaim, 'endpoint'>): Promise<UnreachedCheck[]>;
  /** Members of the room with unread, untold messages up to the room's last seq. */
  unreachedCandidates(check: UnreachedCheck): Promise<{ upTo: number; candidates: UnreachedCandidate[] } | null>;
  unreachedSummary(room: string, user: string, after: number, upTo: number): Promise<UnreachedSummary | null>;
  /**
   * In one transaction: writes the events, marks the users told up to `upTo`, and removes the
   * check, or (a message came in meanwhile) moves it on to `nextDue`.
   */
  finishUnreachedCheck(check: UnreachedCheck, upTo: number, events: readonly OutboxEvent[], told: readonly string[], nextDue: number): Promise<void>;
}

/** A new event id: stable across retries because it is stored with the event. */
export function newEventId(): string {
  return `evt_${randomBytes(12).toString('base64url')}`;
}

/** An event of `type` about `room` (null: not a room's), made now. */
export function outboxEvent(type: string, room: string | null, data: Record<string, unknown>, ts: number = Date.now()): OutboxEvent {
  return { id: newEventId(), type, ts, room, data };
}

/** The lane that orders an event: its room, or for user events the user. */
export function laneOf(e: OutboxEvent): string | null {
  if (e.room !== null) return e.room;
  const user = e.data.user as { id?: unknown } | undefined;
  return e.type.startsWith('user.') && typeof user?.id === 'string' ? `~user:${user.id}` : null;
}

/** A row to insert: the table's columns but its insertion order (`pos`), which the database assigns. */
export type OutboxInsert = Omit<WebhookOutboxTable, 'pos'>;

/**
 * Who wants what, shared by the store's writers (appends, room changes, enqueueEvents). Empty
 * unless configured, so a server without webhooks writes no row and pays one boolean check.
 */
export class OutboxRouting {
  private routes: readonly OutboxRoute[] = [];
  private listeners: Array<() => void> = [];
  private wakePending = false;
  /** Whether any route exists at all. */
  active = false;
  unreachedDelayMs = 10_000;

  configure(routes: readonly OutboxRoute[], opts: { unreachedDelayMs?: number } = {}): void {
    this.routes = routes;
    this.active = routes.length > 0;
    if (opts.unreachedDelayMs !== undefined) this.unreachedDelayMs = opts.unreachedDelayMs;
  }

  wants(type: string): boolean {
    return this.active && this.routes.some((r) => r.types === null || r.types.has(type));
  }

  /** The rows of an event, one per endpoint that wants it. */
  rowsOf(e: OutboxEvent): OutboxInsert[] {
    const rows: OutboxInsert[] = [];
    let body: string | undefined;
    for (const r of this.routes) {
      if (r.types !== null && !r.types.has(e.type)) continue;
      body ??= JSON.stringify({ id: e.id, type: e.type, ts: e.ts, data: e.data });
      rows.push({ event_id: e.id, endpoint: r.endpoint, type: e.type, lane: laneOf(e), body, created_at: e.ts, next_at: e.ts, attempts: 0, lease_owner: null, lease_until: 0, last_error: null });
    }
    return rows;
  }

  onWrite(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Rows were committed: wake the listeners once, after the current turn. */
  written(): void {
    if (this.wakePending || this.listeners.length === 0) return;
    this.wakePending = true;
    setImmediate(() => {
      this.wakePending = false;
      for (const l of this.listeners) l();
    });
  }
}
