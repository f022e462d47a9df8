import type { Session } from './session.js';

/**
 * This node's connections, all of them and by user. Several services read it (membership
 * changes reach every session of a user, a deleted room every session); only Sessions adds and
 * removes.
 */
export class SessionRegistry {
  readonly sessions = new Set<Session>();
  /** By user id (an array: almost every user has one or two). */
  private readonly byUser = new Map<string, Session[]>();

  /** Adds a session; true when it is its user's first here. */
  add(session: Session): boolean {
    this.sessions.add(session);
    const mine = this.byUser.get(session.user.id);
    if (mine) {
      mine.push(session);
      return false;
    }
    // A literal, not push: a first push reserves room for 17 elements.
    this.byUser.set(session.user.id, [session]);
    return true;
  }

  /** Removes a session; true when it was its user's last here. */
  remove(session: Session): boolean {
    this.sessions.delete(session);
    const mine = this.byUser.get(session.user.id);
    if (!mine) return false;
    const i = mine.indexOf(session);
    if (i >= 0) mine.splice(i, 1);
    if (mine.length > 0) return false;
    this.byUser.delete(session.user.id);
    return true;
  }

  /** The user's sessions here, as a copy (callers await between them, and sessions come and go). */
  of(userId: string): Session[] {
    const mine = this.byUser.get(userId);
    return mine ? [...mine] : [];
  }

  hasUser(userId: string): boolean {
    return this.byUser.has(userId);
  }

  /** Distinct users connected here. */
  get userCount(): number {
    return this.byUser.size;
  }
}
