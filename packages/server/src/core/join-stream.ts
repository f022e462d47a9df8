import type { RoomInfo } from '@roomcast/protocol';
import { failedCatchUp, finishCatchUp, sendStored } from './backlog.js';
import type { RequestContext } from './context.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';

/** Online members listed in a join (or create) reply, and in a `members` page of them, at most. */
export const MEMBERS_PAGE = 100;

/**
 * Subscribes a session and sends it the room's backlog (the messages it missed, `since`, or the
 * recent `history`), before any live message of the room so nothing arrives out of order or
 * twice. The reply comes first; the backlog is paced by the socket (backlog.ts).
 */
export async function joinAndStream(
  d: Pick<HandlerDeps, 'membership' | 'delivery' | 'store' | 'broker'>,
  ctx: RequestContext,
  room: RoomInfo,
  opts: { since?: number | undefined; history: number },
): Promise<void> {
  const s = ctx.session;
  const rooms = d.delivery.rooms;
  await d.membership.attach(s, room, true);
  const hold = rooms.held(s, room.id);
  if (!hold) return; // closed meanwhile
  let upTo: number;
  try {
    const rec = await d.store.getRoom(room.id);
    if (!rec) throw new ChatError('room_not_found', `room "${room.id}" was deleted`);
    upTo = rec.lastSeq;
    // The first ones online, at most a page: a 100k-viewer room's reply stays small, and
    // `members {cursor}` pages on from `membersNext`.
    const page = await d.broker.presencePage(room.id, { limit: MEMBERS_PAGE });
    ctx.ok({ room, online: page.online, members: page.users, ...(page.next ? { membersNext: page.next } : {}), lastSeq: rec.lastSeq });
  } catch (err) {
    rooms.goLive(s, room.id, 0, hold);
    throw err;
  }
  const backlog = d.delivery.backlogDeps;
  try {
    if (room.persist) {
      const from = opts.since ?? Math.max(0, upTo - opts.history);
      await sendStored(backlog, s, room.id, from, upTo, hold);
    }
    await finishCatchUp(backlog, s, room.id, upTo, hold);
  } catch (err) {
    failedCatchUp(backlog, s, room.id, err);
  }
}
