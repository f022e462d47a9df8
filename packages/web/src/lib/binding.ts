import { DIRECT_PREFIX, type Message, type Room } from '@roomcast/client';
import { t } from './i18n.js';
import { ensureRoom, nextKey, store, type RoomState } from './store.js';
import { addMessage } from './timeline.js';
import { toast, toastError } from './toasts.js';

// The SDK's events into the store: a joined room's messages, presence, typing, settings and end;
// direct messages (the client's `dm` event).

/** How long "Alice is typing…" shows after her last typing notice. */
const TYPING_MS = 4000;

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
  const offs = [
    room.on('presence', (p) => {
      const s = store.rooms[room.id];
      if (!s) return;
      s.online = p.online;
      s.members = [...p.members];
      if (p.event === 'join' || p.event === 'leave') {
        if (p.user.id === store.me?.id) return;
        delete s.typing[p.user.id];
        s.lines.push({ kind: 'notice', key: nextKey('n'), ts: Date.now(), event: p.event, name: p.user.name });
      }
    }),
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
      else if (reason === 'deleted') toast(t('err.deleted', { room: s.title }));
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
}
