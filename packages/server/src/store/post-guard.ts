import type { AppendInput } from './store.js';

// Membership, mutes and slow mode are checked inside the group commit that would store the post:
// a kick, a mute or a slow-mode turn committed on any node is seen by the very next append on
// every node (the same transaction reads it), whatever a node's cached copy of who belongs says
// (a control message lost in a Redis partition cannot let a kicked member post), and the message path pays a few indexed reads per batch on
// PostgreSQL (a prepared statement per post on SQLite) instead of a round trip of its own per
// post before it.

/** A post refused by the room: the sender is no member (any more), is muted, or slow mode wants a wait. */
export class PostRefused extends Error {
  constructor(
    readonly code: 'not_member' | 'muted' | 'slow_mode',
    readonly room: string,
    /** muted: when the mute ends (null: until lifted). */
    readonly until: number | null,
    /** slow_mode: ms until the sender's next turn. */
    readonly retryAfter: number,
    /** slow_mode: the room's setting, seconds. */
    readonly slowMode: number,
  ) {
    super(code === 'not_member' ? `not a member of room "${room}"` : code === 'muted' ? `muted in room "${room}"` : `room "${room}" is in slow mode`);
  }
}

/** What the commit read about one sender in one room. */
export interface PostGuardFacts {
  /** The sender has a membership row in the room. */
  member(room: string, user: string): boolean;
  /** The active mute's end (null: until lifted), or undefined when not muted (or expired). */
  mutedUntil(room: string, user: string, now: number): number | null | undefined;
  /** The room's slow mode in seconds (0: off). */
  slowMode(room: string): number;
  /** The room's owner or one of its admins (exempt from slow mode). */
  exempt(room: string, user: string): boolean;
  /** When the sender last took a slow-mode turn in the room, ms; undefined: never. */
  lastTurn(room: string, user: string): number | undefined;
}

/** A slow-mode turn taken in this commit (written with the batch). */
export interface TurnRow {
  room_id: string;
  user_id: string;
  last_at: number;
}

/**
 * Checks each moderated post of a batch in order; the turns it takes are recorded in `turns`, so
 * a second message of the same sender in the same batch waits for the first one's window.
 */
export function postGuard(facts: PostGuardFacts, turns: Map<string, TurnRow>): (input: AppendInput) => PostRefused | null {
  return (input) => {
    const kind = input.moderated;
    if (kind === undefined) return null;
    const user = input.from.id;
    if (!facts.member(input.room, user)) return new PostRefused('not_member', input.room, null, 0, 0);
    const until = facts.mutedUntil(input.room, user, input.ts);
    if (until !== undefined) return new PostRefused('muted', input.room, until, 0, 0);
    if (kind !== 'message') return null;
    const seconds = facts.slowMode(input.room);
    if (seconds <= 0 || facts.exempt(input.room, user)) return null;
    const key = `${input.room}\u0000${user}`;
    const last = turns.get(key)?.last_at ?? facts.lastTurn(input.room, user);
    const windowMs = seconds * 1000;
    if (last !== undefined && last > input.ts - windowMs) return new PostRefused('slow_mode', input.room, null, Math.max(1, last + windowMs - input.ts), seconds);
    turns.set(key, { room_id: input.room, user_id: user, last_at: input.ts });
    return null;
  };
}

/** Whether a stored mute (its `until`, null: until lifted) is in force at `now`. */
export function muteActive(until: number | null, now: number): boolean {
  return until === null || until > now;
}
