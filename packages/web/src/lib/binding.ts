import { DIRECT_PREFIX, type Message, type Room } from '@roomcast/client';
import { applyChange, type Change } from './changes.js';
import { t } from './i18n.js';
import { onReceipt, refreshRoster } from './receipts.js';
import { client, ensureRoom, nextKey, store, type RoomState } from './store.js';
import { addMessage } from './timeline.js';
import { toast, toastError } from './toasts.js';

// The SDK's events into the store: a joined room's messages, changes to them (edits, unsends,
// reactions), read receipts, presence, typing, settings and end; direct messages (the client's
// `dm` event).

/** How long "Alice is typing…" shows after her last typing notice. */
const TYPING_MS = 4000;
/** Up to this many members, a departure from the open room refreshes its member list. */
const ROSTER_ON_LEAVE_MAX = 100;

/** The rooms whose events feed the store, with their unsubscribe functions. */
const attached = new Map<string, () => void>();

export function isAttached(id: string): boolean {
  return attached.has(id);
}

/** Stops feeding the store from this room. */
export function detach(id: string): void {
  attached.get(id)?.();
  attached.delete(id);
}

export function detachAll(): void {
  for (const off of attached.values()) off();
  attached.clear();
}

function infoInto(r: RoomState, room: Room): void {
  const info = room.info;
  if (info) {
    r.direct = info.direct;
    if (!info.direct) r.title = info.title ?? info.id;
    r.visibility = info.visibility;
    r.persist = info.persist;
    r.capacity = info.capacity;
    r.owner = info.owner ?? null;
  }
  r.online = room.online;
  r.members = [...room.members];
}

/** Feeds the store from a joined room (a direct conversation's messages come through `onDirect`). */
export function attach(room: Room): void {
  if (attached.has(room.id)) return;
  const r = ensureRoom(room.id);
  r.joined = true;
  infoInto(r, room);
  // The roster is fetched for rooms being looked at (opening one fetches it, rooms.ts), not for
  // every room at sign-in; once fetched, it is kept current.
  if (store.active === room.id) refreshRoster(room.id);
  const offs = [
    room.on('presence', (p) => {
      const s = store.rooms[room.id];
      if (!s) return;
      s.online = p.online;
      s.members = [...p.members];
      // Back after a reconnect (receipts may have been missed), or someone new: cursors anew.
      const looked = store.active === room.id || s.roster.length > 0;
      if (looked && (p.event === 'sync' || (p.event === 'join' && !s.roster.some((e) => e.id === p.user.id)))) refreshRoster(room.id);
      // A `leave` is either going offline or leaving the room: the offline list (MembersPanel)
      // asks which, in the open room, when the room is small enough for that to be cheap.
      else if (p.event === 'leave' && store.active === room.id && s.roster.length <= ROSTER_ON_LEAVE_MAX) refreshRoster(room.id);
      if (p.event === 'join' || p.event === 'leave') {
        if (p.user.id === store.me?.id) return;
        delete s.typing[p.user.id];
        // Not while an older stretch is shown: the notice would sit at its end, out of time.
        if (!s.newer) s.lines.push({ kind: 'notice', key: nextKey('n'), ts: Date.now(), event: p.event, name: p.user.name, userId: p.user.id });
      }
    }),
    room.on('change', ({ event }) => applyChange(room.id, event as Change)),
    room.on('receipt', ({ user, seq }) => onReceipt(room.id, user, seq)),
    room.on('typing', ({ user }) => {
      const s = store.rooms[room.id];
      if (!s || user.id === store.me?.id) return;
      s.typing[user.id] = { name: user.name, until: Date.now() + TYPING_MS };
      setTimeout(() => {
        const cur = store.rooms[room.id]?.typing[user.id];
        if (cur && cur.until <= Date.now()) delete store.rooms[room.id]!.typing[user.id];
      }, TYPING_MS + 50);
    }),
    room.on('update', () => {
      const s = store.rooms[room.id];
      if (s) infoInto(s, room);
    }),
    room.on('closed', ({ reason, error }) => {
      detach(room.id);
      const s = store.rooms[room.id];
      if (!s) return;
      if (reason === 'left') return;
      if (reason === 'kicked') toast(t('err.kicked', { room: s.title }));
      else if (reason === 'deleted') {
        toast(t('err.deleted', { room: s.title }));
        // Not listed among the public rooms either, until the next refresh says otherwise.
        store.publicRooms = store.publicRooms.filter((p) => p.id !== room.id);
      }
      else if (error) toastError(error);
      delete store.rooms[room.id];
      if (store.active === room.id) store.active = null;
    }),
  ];
  if (!room.id.startsWith(DIRECT_PREFIX)) offs.push(room.on('message', (m) => addMessage(m)));
  attached.set(room.id, () => offs.forEach((f) => f()));
}

/** A message of a direct conversation (the client's `dm` event), its room made on the first. */
export function onDirect(m: Message): void {
  const r = ensureRoom(m.room, { direct: true });
  r.direct = true;
  if (!r.peer && !m.mine) r.peer = m.from;
  if (r.peer) r.title = r.peer.name;
  addMessage(m);
  // A conversation that started on this page: joined like the others, for its changes and receipts.
  const c = client();
  if (c && !attached.has(m.room) && !joiningDirect.has(m.room)) {
    joiningDirect.add(m.room);
    c.join(m.room)
      .then((room) => attach(room))
      .catch(() => undefined)
      .finally(() => joiningDirect.delete(m.room));
  }
}

const joiningDirect = new Set<string>();
