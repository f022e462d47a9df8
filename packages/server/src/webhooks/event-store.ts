import type { RoomInfo, UserRef } from '@roomcast/protocol';
import { roomInfoOf } from '../core/events.js';
import { outboxEvent, type OutboxEvent } from '../store/outbox.js';
import type { NewRoom, RoomPatch, Store } from '../store/store.js';

// The store as the core sees it when webhooks are on: room and membership writes carry their
// webhook events (room.created / updated / deleted, member.joined / left), built here once for
// every caller (socket ops, direct conversations, the HTTP API, departures). A caller that knows
// better passes its own `events` (a kick: member.kicked), which are used instead. Every other
// call reaches the store unchanged.

type Events = readonly OutboxEvent[] | undefined;

export function withWebhookEvents(store: Store, now: () => number = Date.now): Store {
  const user = async (id: string): Promise<UserRef> => {
    const u = await store.getUser(id);
    return u ? { id: u.id, name: u.name } : { id, name: id };
  };
  const event = (type: string, room: string, data: Record<string, unknown>): OutboxEvent[] => [outboxEvent(type, room, data, now())];
  const overrides = {
    createRoom(room: NewRoom, events?: Events) {
      if (!events && store.outboxWants('room.created')) events = event('room.created', room.id, { room: { ...room } });
      return store.createRoom(room, events);
    },
    async updateRoom(id: string, patch: RoomPatch, events?: Events) {
      if (!events && store.outboxWants('room.updated')) {
        const cur = await store.getRoom(id);
        if (cur) events = event('room.updated', id, { room: patched(roomInfoOf(cur), patch) });
      }
      return store.updateRoom(id, patch, events);
    },
    async deleteRoom(id: string, events?: Events) {
      if (!events && store.outboxWants('room.deleted')) {
        const cur = await store.getRoom(id);
        if (cur) events = event('room.deleted', id, { room: { ...roomInfoOf(cur), deleted: true } });
      }
      return store.deleteRoom(id, events);
    },
    async addMember(room: string, userId: string, capacity: number | null, at: number, events?: Events) {
      if (!events && store.outboxWants('member.joined')) events = event('member.joined', room, { room, user: await user(userId) });
      return store.addMember(room, userId, capacity, at, events);
    },
    async removeMember(room: string, userId: string, events?: Events) {
      if (!events && store.outboxWants('member.left')) events = event('member.left', room, { room, user: await user(userId) });
      return store.removeMember(room, userId, events);
    },
  };
  const props: PropertyDescriptorMap = {};
  for (const [k, v] of Object.entries(overrides)) props[k] = { value: v };
  return Object.create(store, props) as Store;
}

/** The room as it is after `patch` (what `room` events show). */
function patched(room: RoomInfo, patch: RoomPatch): RoomInfo {
  const r: RoomInfo = { ...room };
  if (patch.title !== undefined) r.title = patch.title;
  if (patch.capacity !== undefined) r.capacity = patch.capacity;
  if (patch.retention !== undefined) r.retention = patch.retention;
  if (patch.receipts !== undefined) r.receipts = patch.receipts;
  if (patch.slowMode !== undefined) {
    if (patch.slowMode > 0) r.slowMode = patch.slowMode;
    else delete r.slowMode;
  }
  return r;
}
