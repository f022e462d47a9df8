import { ref } from 'vue';
import { DIRECT_PREFIX, type JoinOptions, type RoomcastError, type UserRef } from '@roomcast/client';
import { attach, detach, isAttached } from './binding.js';
import { refreshRoster } from './receipts.js';
import { roomIdProblem } from './room-ids.js';
import { client, ensureRoom, store } from './store.js';
import { firstUnread } from './timeline.js';
import { toastError } from './toasts.js';

// The room list: my rooms (joined, so their messages and unread counts stay live), direct
// conversations, public rooms; creating, joining, opening and leaving rooms.

/** My rooms (joined so their messages and unread counts stay live) and the public ones. */
export async function refreshRooms(): Promise<void> {
  const c = client();
  if (!c) return;
  try {
    const mine = await c.rooms('mine');
    for (const s of mine) {
      const r = ensureRoom(s.id, { activity: s.lastSeq });
      r.title = s.direct ? (s.peer?.name ?? s.title ?? s.id) : (s.title ?? s.id);
      r.direct = s.direct;
      if (s.peer) r.peer = s.peer;
      r.visibility = s.visibility;
      r.persist = s.persist;
      r.readSeq = Math.max(r.readSeq, s.readSeq ?? 0);
      if (store.active !== s.id) {
        r.unread = s.unread ?? 0;
        r.mentions = s.mentions ?? 0;
      }
      r.lastSeq = Math.max(r.lastSeq, s.lastSeq);
      if (!isAttached(s.id)) void joinRoom(s.id, { quiet: true });
    }
    await refreshPublic();
  } catch (err) {
    if ((err as RoomcastError).code !== 'closed') toastError(err);
  }
}

export async function refreshPublic(): Promise<void> {
  const c = client();
  if (!c) return;
  try {
    store.publicRooms = (await c.rooms('public')).filter((r) => !r.direct);
  } catch {
    // The list refreshes on the next connect.
  }
}

/** Why the room being opened refused us (shown instead of the room, JoinRefused.vue). */
export interface Refusal {
  room: string;
  /** The server's error code (`forbidden`, `room_full`, `room_not_found`…), or a room-id problem. */
  code: string;
  /** The server's own sentence, shown under ours. */
  message: string;
  /** We came with an invite token (a refused one has expired or is for another room). */
  invited: boolean;
}

export const refusal = ref<Refusal | null>(null);

/**
 * Joins a room (with an invite link's token, if any). A refusal of a room being opened (not
 * `quiet`) is kept in `refusal` for the explanation screen; others are toasts.
 */
export async function joinRoom(id: string, opts: { quiet?: boolean; invite?: string | undefined; explain?: boolean } = {}): Promise<boolean> {
  const c = client();
  if (!c) return false;
  if (isAttached(id)) return true;
  const problem = roomIdProblem(id);
  if (problem) {
    if (!opts.quiet) refuse({ room: id, code: `id.${problem}`, message: '', invited: false }, opts.explain);
    return false;
  }
  try {
    const options: JoinOptions = opts.invite ? { invite: opts.invite } : {};
    const room = await c.join(id, options);
    attach(room);
    if (refusal.value?.room === id) refusal.value = null;
    return true;
  } catch (err) {
    const e = err as RoomcastError;
    if (!opts.quiet) refuse({ room: id, code: String(e.code ?? 'generic'), message: String(e.message ?? ''), invited: !!opts.invite }, opts.explain);
    if (!isAttached(id) && store.rooms[id] && store.rooms[id]!.lines.length === 0 && !opts.quiet) delete store.rooms[id];
    return false;
  }
}

function refuse(r: Refusal, explain = false): void {
  if (explain) refusal.value = r;
  else toastError({ code: r.code.startsWith('id.') ? 'bad_request' : r.code, message: r.message || r.room });
}

export async function createRoom(opts: { title?: string; capacity?: number; visibility: 'public' | 'private'; persist: boolean }): Promise<string | null> {
  const c = client();
  if (!c) return null;
  try {
    const room = await c.create({
      ...(opts.title ? { title: opts.title } : {}),
      ...(opts.capacity ? { capacity: opts.capacity } : {}),
      visibility: opts.visibility,
      persist: opts.persist,
    });
    attach(room);
    store.rooms[room.id]!.activity = Date.now();
    void refreshPublic();
    return room.id;
  } catch (err) {
    toastError(err);
    return null;
  }
}

export async function leaveRoom(id: string): Promise<void> {
  const room = client()?.room(id);
  detach(id);
  delete store.rooms[id];
  if (store.active === id) store.active = null;
  try {
    await room?.leave();
  } catch (err) {
    toastError(err);
  }
  void refreshPublic();
}

/**
 * Opens a room: joins it if needed (with an invite link's token), places the "new messages"
 * marker. A refusal is kept in `refusal` for the explanation screen.
 */
export async function openRoom(id: string, invite?: string): Promise<boolean> {
  const r0 = store.rooms[id];
  if (!isAttached(id) && !(r0?.direct && r0.lines.length > 0 && !id.startsWith(DIRECT_PREFIX))) {
    const ok = await joinRoom(id, { invite, explain: true });
    if (!ok) return false;
  }
  refusal.value = null;
  const r = store.rooms[id];
  if (!r) return false;
  r.markerSeq = r.unread > 0 ? firstUnread(r) : null;
  store.active = id;
  // Who has read what ("Seen by") and who can be mentioned, fresh for the room being opened.
  refreshRoster(id);
  return true;
}

export function closeRoom(): void {
  store.active = null;
}

/** Opens the direct conversation with a user (a draft until the first message creates it). */
export function openDirect(user: UserRef): string {
  for (const r of Object.values(store.rooms)) {
    if (r.direct && r.peer?.id === user.id && r.id.startsWith(DIRECT_PREFIX)) {
      store.active = r.id;
      r.markerSeq = null;
      return r.id;
    }
  }
  const id = `@${user.id}`;
  ensureRoom(id, { direct: true, peer: user, title: user.name, visibility: 'private', joined: true });
  store.active = id;
  return id;
}
