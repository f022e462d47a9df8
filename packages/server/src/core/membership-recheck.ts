import type { Store } from '../store/store.js';
import type { Delivery } from './delivery.js';
import type { Logger } from './logger.js';
import type { Membership } from './membership.js';
import type { SessionRegistry } from './registry.js';

export interface RecheckDeps {
  store: Store;
  registry: SessionRegistry;
  delivery: Delivery;
  membership: Membership;
  log: Logger;
}

/**
 * Kicks, bans and deletes made on other nodes reach this node as control messages on the users'
 * channels, and pub/sub delivers them at most once: while the broker was away some may have been
 * lost, and a node's cached copy of who belongs where would go on letting a kicked user read the
 * room. So once the broker is back, the cache is thrown away and the rooms live here are checked
 * against the store: who is no member any more is detached and told, as the lost message would
 * have done. (Posting never trusted the cache: the commit checks membership, store/post-guard.ts.)
 *
 * Cost: one query per live room (500 users a query), once per broker recovery.
 */
export async function recheckMemberships(d: RecheckDeps): Promise<{ detached: number }> {
  for (const s of d.registry.sessions) s.memberOf.clear();
  let detached = 0;
  for (const room of [...d.delivery.rooms.all()]) {
    const id = room.info.id;
    try {
      const current = await d.store.getRoom(id);
      const users = [...room.userSessions.keys()];
      const members = current && Number(current.createdAt) === Number(room.info.createdAt) ? await d.store.membersAmong(id, users) : new Set<string>();
      for (const userId of users) {
        const sessions = d.registry.of(userId).filter((s) => s.rooms.has(id));
        if (members.has(userId) || sessions.some((s) => s.user.admin)) {
          for (const s of sessions) s.memberOf.add(id);
          continue;
        }
        const notify = { op: 'room', room: current ? { ...room.info, kicked: true } : { ...room.info, deleted: true } };
        for (const s of await d.membership.dropUser(userId, id)) {
          s.sendJson(notify);
          detached++;
        }
      }
    } catch (err) {
      d.log.warn({ err, room: id }, 're-checking memberships after the broker came back failed; the cache stays empty, so the store is asked on the next request');
    }
  }
  return { detached };
}
