import { CloseCode, type RoomInfo } from '@roomcast/protocol';
import { userChannel } from '../broker/broker.js';
import { outboxEvent } from '../store/outbox.js';
import type { OutboxEvent, RoomPatch, RoomRecord } from '../store/store.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';
import { roomInfoOf } from './events.js';
import type { SessionRegistry } from './registry.js';
import type { Session } from './session.js';

// What a moderator does to a room or a user, whoever asks: the socket's `delete` and `kick` (after
// their owner checks) and the admin HTTP API call the same functions, so both have the same
// effects on every node.

/** The close reason of an administrator's disconnect (close code 4410). */
export const DISCONNECTED_REASON = 'disconnected by an administrator';

/**
 * Tells the other nodes that a user is out of a room: on the user's channel, which every node
 * with one of their connections hears (joined to the room or not), and on the room's, which
 * nodes of earlier versions listen to.
 */
export function tellDropUser(d: Pick<HandlerDeps, 'delivery'>, userId: string, roomId: string, notify?: object): void {
  d.delivery.tell(userChannel(userId), { kind: 'drop-user', user: userId, room: roomId, ...(notify ? { notify } : {}) });
  d.delivery.tell(roomId, { kind: 'drop-user', user: userId, ...(notify ? { notify } : {}) });
}

/**
 * Deletes a room everywhere: its members are told (those connected here who have not joined it
 * on a connection directly), connections on every node are detached, the stored room goes.
 */
export async function deleteRoomEverywhere(d: Pick<HandlerDeps, 'registry' | 'membership' | 'delivery'>, room: RoomInfo): Promise<void> {
  // Tell the members first, while they are still subscribed.
  const event = { op: 'room', room: { ...room, deleted: true } };
  d.delivery.broadcast(room.id, event);
  d.delivery.tell(room.id, { kind: 'drop-room', notify: event });
  for (const s of [...d.registry.sessions]) {
    if (s.memberOf.has(room.id) && !s.rooms.has(room.id)) s.sendJson(event);
    s.memberOf.delete(room.id);
    if (s.rooms.has(room.id)) await d.membership.detach(s, room.id, true);
  }
  await d.membership.deleteRoom(room.id, event);
}

/**
 * Takes a user out of a room (a kick): their membership ends, their connections on every node
 * are told (`room` with `kicked: true`) and detached, the others see them leave.
 */
export async function kickMember(d: Pick<HandlerDeps, 'store' | 'membership' | 'delivery'>, room: RoomInfo, userId: string, events?: readonly OutboxEvent[]): Promise<void> {
  // `events`: the kick's webhooks (member.kicked), written with the membership's end.
  // A kick without events of its own is a plain member.kicked (else the store's default: member.left).
  const own = events ?? (d.store.outboxWants('member.kicked') ? [outboxEvent('member.kicked', room.id, { room: room.id, user: (await d.store.getUser(userId)) ?? { id: userId, name: userId } })] : undefined);
  if (!(await d.store.removeMember(room.id, userId, own))) {
    throw new ChatError('not_member', `user "${userId}" is not a member of room "${room.id}"`);
  }
  const notify = { op: 'room', room: { ...room, kicked: true } };
  const kicked = await d.membership.dropUser(userId, room.id);
  for (const s of kicked) s.sendJson(notify);
  tellDropUser(d, userId, room.id, notify);
}

/**
 * Closes every connection of the user on every node with 4410: here at once, elsewhere through
 * a control message on the user's channel (which every node holding one of their connections
 * hears). Returns how many connections closed here.
 */
export function disconnectUser(d: Pick<HandlerDeps, 'registry' | 'delivery'>, userId: string, close?: { code: number; reason: string }): number {
  d.delivery.tell(userChannel(userId), { kind: 'disconnect', user: userId, ...close });
  return closeUserHere(d.registry, userId, close?.code, close?.reason);
}

/** Closes the user's connections on this node with 4410, or the code given (the `disconnect` control message's effect). */
export function closeUserHere(registry: SessionRegistry, userId: string, code: number = CloseCode.Disconnected, reason = DISCONNECTED_REASON): number {
  const open = registry.of(userId).filter((s: Session) => !s.closed);
  for (const s of open) s.conn.close(code, reason);
  return open.length;
}

/**
 * Changes a room's settings, whoever asks (the socket's `update`, the server API): stored, then
 * the live room, the public directory and the members (a `room` event) see the new settings.
 */
export async function updateRoomSettings(d: Pick<HandlerDeps, 'store' | 'delivery' | 'directory'>, roomId: string, patch: RoomPatch): Promise<RoomRecord> {
  const rec = await d.store.updateRoom(roomId, patch);
  if (!rec) throw new ChatError('room_not_found', `room "${roomId}" was deleted`);
  const room = roomInfoOf(rec);
  const live = d.delivery.rooms.get(room.id);
  if (live) live.info = room;
  d.directory.removed(room.id);
  d.directory.added(rec);
  d.delivery.broadcast(room.id, { op: 'room', room });
  return rec;
}
