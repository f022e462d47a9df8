import { markRaw, reactive } from 'vue';
import { RoomcastClient, RoomcastError, type Message, type Room, type RoomSummary, type UserRef } from '@roomcast/client';
import { t, type Key } from './i18n.js';
import { clearSession, jwtClaims, loadSession, saveSession, type SavedSession } from './session.js';

// The app's state: one reactive store fed by @roomcast/client. Every socket operation goes
// through the SDK, so its reconnect, resume-by-seq and offline outbox apply to the UI too.

export interface ImageRef {
  url: string;
  mime: string;
  name?: string | undefined;
  size: number;
}

export interface MsgLine {
  kind: 'msg';
  key: string;
  seq: number;
  id: string;
  from: UserRef;
  ts: number;
  text?: string | undefined;
  image?: ImageRef | undefined;
  file?: ImageRef | undefined;
  mine: boolean;
  state: 'sent' | 'pending' | 'failed';
  error?: string | undefined;
}

export interface NoticeLine {
  kind: 'notice';
  key: string;
  ts: number;
  event: 'join' | 'leave';
  name: string;
}

export type Line = MsgLine | NoticeLine;

export interface RoomState {
  /** Room id, or `@USERID` for a direct conversation not started yet. */
  id: string;
  title: string;
  direct: boolean;
  peer: UserRef | null;
  visibility: 'public' | 'private';
  persist: boolean;
  capacity: number | null;
  lines: Line[];
  /** Our messages the server has not acknowledged yet (shown after the stored ones). */
  pending: MsgLine[];
  unread: number;
  readSeq: number;
  lastSeq: number;
  /** Where the "new messages" marker goes while the room is open. */
  markerSeq: number | null;
  online: number;
  members: UserRef[];
  typing: Record<string, { name: string; until: number }>;
  more: boolean;
  loadingOlder: boolean;
  joined: boolean;
  /** Last activity, for ordering the room list. */
  activity: number;
}

export interface Toast {
  id: number;
  text: string;
  detail?: string | undefined;
  kind: 'error' | 'info';
}

export type AuthMode = 'guest' | 'jwt' | 'both';

const MIN_DELAY = 500;
const MAX_DELAY = 10_000;
const STABLE_AFTER = 5000;
const TYPING_MS = 4000;

export const store = reactive({
  phase: 'login' as 'login' | 'connecting' | 'ready',
  authMode: 'guest' as AuthMode,
  me: null as UserRef | null,
  isAdmin: false,
  conn: { state: 'disconnected' as 'connecting' | 'connected' | 'disconnected', retryAt: 0, everConnected: false, browserOnline: true },
  rooms: {} as Record<string, RoomState>,
  publicRooms: [] as RoomSummary[],
  active: null as string | null,
  toasts: [] as Toast[],
  loginError: '',
  maxBinary: 1_048_576,
  /** The room whose share link to show after creating it. */
  created: null as string | null,
});

let client: RoomcastClient | null = null;
/** Public rooms' online counts change without events to us: the list is refreshed now and then. */
let publicTimer: ReturnType<typeof setInterval> | undefined;
const PUBLIC_REFRESH_MS = 15_000;
const attached = new Map<string, () => void>();
const seen = new Map<string, Set<number>>();
let attempt = 0;
let stableTimer: ReturnType<typeof setTimeout> | undefined;
let toastId = 0;
let keySeq = 0;
const nextKey = (p: string) => `${p}${++keySeq}`;

// ---- notices ------------------------------------------------------------------------------------

export function errorText(err: unknown): { text: string; detail?: string } {
  if (err instanceof RoomcastError || (typeof err === 'object' && err !== null && 'code' in err)) {
    const e = err as { code: string; message: string };
    const key = `err.${e.code}` as Key;
    const known = t(key);
    if (known !== key && !known.startsWith('err.')) return { text: known, detail: e.message };
    return { text: e.message || t('err.generic') };
  }
  return { text: err instanceof Error ? err.message : t('err.generic') };
}

export function toast(text: string, detail?: string, kind: Toast['kind'] = 'error'): void {
  const id = ++toastId;
  store.toasts.push({ id, text, detail, kind });
  if (store.toasts.length > 4) store.toasts.shift();
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000);
}

export function toastError(err: unknown): void {
  const { text, detail } = errorText(err);
  toast(text, detail);
}

export function dismiss(id: number): void {
  const i = store.toasts.findIndex((x) => x.id === id);
  if (i >= 0) store.toasts.splice(i, 1);
}

// ---- signing in -----------------------------------------------------------------------------------

function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

export async function loadServerConfig(): Promise<void> {
  try {
    const r = await fetch('/api/client-config');
    if (r.ok) {
      const c = (await r.json()) as { auth?: AuthMode; maxBinary?: number };
      if (c.auth === 'guest' || c.auth === 'jwt' || c.auth === 'both') store.authMode = c.auth;
    }
  } catch {
    // An older server: assume guests.
  }
}

/** Signs in again with what the last visit stored, if anything. */
export function resume(): boolean {
  const s = loadSession();
  if (!s) return false;
  void signIn(s);
  return true;
}

export async function signIn(s: SavedSession): Promise<boolean> {
  signOutQuietly();
  store.phase = 'connecting';
  store.loginError = '';
  attempt = 0;
  const c = new RoomcastClient(wsUrl(), {
    ...(s.token ? { token: s.token } : { name: s.name, ...(s.guestToken ? { guestToken: s.guestToken } : {}) }),
    minReconnectDelay: MIN_DELAY,
    maxReconnectDelay: MAX_DELAY,
    stableAfter: STABLE_AFTER,
    // The SDK draws its reconnect delay from this; mirroring its backoff lets the UI count down.
    random: () => {
      const r = Math.random();
      const ceiling = Math.min(MAX_DELAY, MIN_DELAY * 2 ** Math.min(attempt, 30));
      attempt++;
      store.conn.retryAt = Date.now() + Math.floor(r * ceiling);
      return r;
    },
  });
  client = markRaw(c);
  c.on('state', ({ state }) => {
    store.conn.state = state;
    clearTimeout(stableTimer);
    if (state === 'connected') {
      store.conn.retryAt = 0;
      store.conn.everConnected = true;
      stableTimer = setTimeout(() => (attempt = 0), STABLE_AFTER);
      onConnected();
    }
  });
  c.on('error', ({ error, room }) => {
    if (room && store.rooms[room]) return; // reported by the room's closed event
    if (error.code === 'unauthorized' && store.phase === 'ready' && c.guestToken) return; // a new guest identity: silent
    if (store.phase === 'ready') toastError(error);
  });
  c.on('dm', (m) => onDirect(m));
  try {
    await c.connect();
  } catch (err) {
    if (client !== c) return false;
    client = null;
    store.phase = 'login';
    const e = err as RoomcastError;
    store.loginError = e.code === 'unauthorized' && !s.token ? t('login.tokenRequired') : t('login.failed', { message: errorText(err).text + (e.message ? ` (${e.message})` : '') });
    if (e.code === 'unauthorized' && !s.token && store.authMode === 'guest') store.authMode = 'jwt';
    clearSession();
    return false;
  }
  if (client !== c) return false;
  store.me = c.user;
  store.maxBinary = c.serverLimits?.maxBinary ?? store.maxBinary;
  const claims = s.token ? jwtClaims(s.token) : null;
  store.isAdmin = claims?.admin === true;
  saveSession(s.token ? { token: s.token } : { name: c.user?.name ?? s.name, ...(c.guestToken ? { guestToken: c.guestToken } : {}) });
  store.phase = 'ready';
  clearInterval(publicTimer);
  publicTimer = setInterval(() => {
    if (client === c && c.state === 'connected' && document.visibilityState === 'visible') void refreshPublic();
  }, PUBLIC_REFRESH_MS);
  return true;
}

function signOutQuietly(): void {
  clearInterval(publicTimer);
  if (client) client.close();
  client = null;
  for (const off of attached.values()) off();
  attached.clear();
  seen.clear();
  store.rooms = {};
  store.publicRooms = [];
  store.active = null;
  store.me = null;
}

export function signOut(): void {
  signOutQuietly();
  clearSession();
  store.phase = 'login';
  store.conn.state = 'disconnected';
  store.conn.everConnected = false;
}

function onConnected(): void {
  const c = client;
  if (!c) return;
  store.me = c.user;
  if (c.guestToken) {
    const s = loadSession();
    if (s && !s.token && s.guestToken !== c.guestToken) saveSession({ ...s, guestToken: c.guestToken });
  }
  void refreshRooms();
}

// ---- rooms ----------------------------------------------------------------------------------------

function newRoomState(id: string, init: Partial<RoomState> = {}): RoomState {
  return {
    id,
    title: id,
    direct: false,
    peer: null,
    visibility: 'public',
    persist: true,
    capacity: null,
    lines: [],
    pending: [],
    unread: 0,
    readSeq: 0,
    lastSeq: 0,
    markerSeq: null,
    online: 0,
    members: [],
    typing: {},
    more: false,
    loadingOlder: false,
    joined: false,
    activity: 0,
    ...init,
  };
}

function ensureRoom(id: string, init: Partial<RoomState> = {}): RoomState {
  let r = store.rooms[id];
  if (!r) {
    store.rooms[id] = newRoomState(id, init);
    r = store.rooms[id]!;
  }
  return r;
}

/** My rooms (joined so their messages and unread counts stay live) and the public ones. */
export async function refreshRooms(): Promise<void> {
  const c = client;
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
      if (store.active !== s.id) r.unread = s.unread ?? 0;
      r.lastSeq = Math.max(r.lastSeq, s.lastSeq);
      if (!attached.has(s.id)) void joinRoom(s.id, { quiet: true });
    }
    await refreshPublic();
  } catch (err) {
    if ((err as RoomcastError).code !== 'closed') toastError(err);
  }
}

export async function refreshPublic(): Promise<void> {
  const c = client;
  if (!c) return;
  try {
    store.publicRooms = (await c.rooms('public')).filter((r) => !r.direct);
  } catch {
    // The list refreshes on the next connect.
  }
}

export async function joinRoom(id: string, opts: { quiet?: boolean } = {}): Promise<boolean> {
  const c = client;
  if (!c) return false;
  if (attached.has(id)) return true;
  try {
    const room = await c.join(id);
    attach(room);
    return true;
  } catch (err) {
    if (!opts.quiet) toastError(err);
    if (!attached.has(id) && store.rooms[id] && store.rooms[id]!.lines.length === 0 && !opts.quiet) delete store.rooms[id];
    return false;
  }
}

export async function createRoom(opts: { title?: string; capacity?: number; visibility: 'public' | 'private'; persist: boolean }): Promise<string | null> {
  const c = client;
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
  const c = client;
  const room = c?.room(id);
  attached.get(id)?.();
  attached.delete(id);
  delete store.rooms[id];
  if (store.active === id) store.active = null;
  try {
    await room?.leave();
  } catch (err) {
    toastError(err);
  }
  void refreshPublic();
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

function attach(room: Room): void {
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
      attached.get(room.id)?.();
      attached.delete(room.id);
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
  if (!room.id.startsWith('dm-')) offs.push(room.on('message', (m) => addMessage(m)));
  attached.set(room.id, () => offs.forEach((f) => f()));
}

function onDirect(m: Message): void {
  const r = ensureRoom(m.room, { direct: true });
  r.direct = true;
  if (!r.peer && !m.mine) r.peer = m.from;
  if (r.peer) r.title = r.peer.name;
  addMessage(m);
}

function blobUrl(data: Uint8Array, mime: string): string {
  return URL.createObjectURL(new Blob([data.slice()], { type: mime }));
}

function toLine(m: Message): MsgLine {
  const line: MsgLine = { kind: 'msg', key: `m${m.seq}`, seq: m.seq, id: m.id, from: m.from, ts: m.ts, mine: m.mine, state: 'sent' };
  if (m.text !== undefined) line.text = m.text;
  if (m.binary) {
    const url = m.data ? blobUrl(m.data, m.binary.mime) : (client?.fileUrl(m) ?? '');
    const ref: ImageRef = { url, mime: m.binary.mime, name: m.binary.name, size: m.binary.size };
    if (m.binary.mime.startsWith('image/')) line.image = ref;
    else line.file = ref;
  }
  return line;
}

/** Stored messages arrive here in seq order, once each (the SDK guarantees it). */
function addMessage(m: Message): void {
  const r = ensureRoom(m.room);
  let s = seen.get(m.room);
  if (!s) seen.set(m.room, (s = new Set()));
  if (s.has(m.seq)) return;
  s.add(m.seq);
  const line = toLine(m);
  // Messages come in order; a history page fetched by scrolling is prepended elsewhere.
  r.lines.push(line);
  delete r.typing[m.from.id];
  r.activity = Math.max(r.activity, m.ts);
  const fresh = m.seq > r.lastSeq;
  r.lastSeq = Math.max(r.lastSeq, m.seq);
  if (r.lines.filter((l) => l.kind === 'msg').length === 1) r.more = m.seq > 1 && r.persist;
  if (m.mine) {
    // Reading is implied by writing.
    r.readSeq = Math.max(r.readSeq, m.seq);
    return;
  }
  if (m.seq > r.readSeq && fresh) {
    if (store.active !== m.room || !viewer.atBottom || !viewer.visible) {
      r.unread++;
      if (store.active === m.room && r.markerSeq === null) r.markerSeq = m.seq;
    } else {
      scheduleRead(m.room);
    }
  }
}

/** What the message list reports, so arriving messages count as read only when seen. */
export const viewer = { atBottom: true, visible: true };

const readTimers = new Map<string, ReturnType<typeof setTimeout>>();

/** Moves the read cursor to the newest message of the open room (debounced). */
export function scheduleRead(id: string): void {
  if (readTimers.has(id)) return;
  readTimers.set(
    id,
    setTimeout(() => {
      readTimers.delete(id);
      void markRead(id);
    }, 300),
  );
}

async function markRead(id: string): Promise<void> {
  const r = store.rooms[id];
  const room = client?.room(id);
  if (!r || !room) return;
  const seq = r.lastSeq;
  if (seq <= r.readSeq && r.unread === 0) return;
  r.unread = 0;
  r.readSeq = Math.max(r.readSeq, seq);
  try {
    await room.markRead(seq);
  } catch {
    // The cursor moves on the next read.
  }
}

/** Opens a room: joins it if needed, places the "new messages" marker. */
export async function openRoom(id: string): Promise<boolean> {
  const r0 = store.rooms[id];
  if (!attached.has(id) && !(r0?.direct && r0.lines.length > 0 && !id.startsWith('dm-'))) {
    const ok = await joinRoom(id);
    if (!ok) return false;
  }
  const r = store.rooms[id];
  if (!r) return false;
  r.markerSeq = r.unread > 0 ? firstUnread(r) : null;
  store.active = id;
  return true;
}

function firstUnread(r: RoomState): number | null {
  for (const l of r.lines) if (l.kind === 'msg' && !l.mine && l.seq > r.readSeq) return l.seq;
  return null;
}

export function closeRoom(): void {
  store.active = null;
}

/** Opens the direct conversation with a user (a draft until the first message creates it). */
export function openDirect(user: UserRef): string {
  for (const r of Object.values(store.rooms)) {
    if (r.direct && r.peer?.id === user.id && r.id.startsWith('dm-')) {
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

export async function loadOlder(id: string): Promise<void> {
  const r = store.rooms[id];
  const room = client?.room(id);
  if (!r || !room || r.loadingOlder || !r.more) return;
  const first = r.lines.find((l): l is MsgLine => l.kind === 'msg');
  if (!first) return;
  r.loadingOlder = true;
  try {
    const page = await room.history({ before: first.seq, limit: 50 });
    const s = seen.get(id) ?? new Set<number>();
    seen.set(id, s);
    const older = page.messages.filter((m) => !s.has(m.seq));
    for (const m of older) s.add(m.seq);
    r.lines.unshift(...older.map(toLine));
    r.more = page.more;
  } catch (err) {
    toastError(err);
  } finally {
    r.loadingOlder = false;
  }
}

// ---- sending --------------------------------------------------------------------------------------

export function typing(id: string): void {
  client?.room(id)?.typing();
}

function pendingLine(r: RoomState, content: { text?: string; image?: ImageRef }): MsgLine {
  const line: MsgLine = {
    kind: 'msg',
    key: nextKey('p'),
    seq: 0,
    id: '',
    from: store.me ?? { id: '', name: '' },
    ts: Date.now(),
    mine: true,
    state: 'pending',
    ...content,
  };
  r.pending.push(line);
  return r.pending[r.pending.length - 1]!;
}

function settle(r: RoomState, key: string, err?: unknown): void {
  const i = r.pending.findIndex((l) => l.key === key);
  if (i < 0) return;
  if (!err) {
    r.pending.splice(i, 1);
    return;
  }
  const l = r.pending[i]!;
  l.state = 'failed';
  l.error = errorText(err).text;
  toastError(err);
}

async function deliver(r: RoomState, key: string, go: () => Promise<{ room: string }>): Promise<void> {
  try {
    const res = await go();
    if (r.id.startsWith('@')) {
      // The first message of a direct conversation made its room: continue there.
      const real = ensureRoom(res.room, { direct: true, peer: r.peer, title: r.title });
      real.peer = r.peer;
      real.title = r.title;
      settle(r, key);
      real.pending.push(...r.pending.splice(0));
      if (store.active === r.id) {
        store.active = res.room;
        location.hash = `#/r/${res.room}`;
      }
      delete store.rooms[r.id];
      return;
    }
    settle(store.rooms[res.room] ?? r, key);
  } catch (err) {
    settle(store.rooms[r.id] ?? r, key, err);
  }
}

function post(r: RoomState, send: (room: Room | undefined, peer: UserRef | null) => Promise<{ room: string }>): () => Promise<{ room: string }> {
  return () => send(client?.room(r.id), r.peer);
}

export function sendText(id: string, text: string): void {
  const r = store.rooms[id];
  const c = client;
  if (!r || !c || !text.trim()) return;
  const line = pendingLine(r, { text });
  void deliver(
    r,
    line.key,
    post(r, (room, peer) => {
      if (r.direct && peer) return c.dm(peer.id, text);
      if (!room) return Promise.reject(new RoomcastError('not_member', `you are not in room "${id}"`));
      return room.send(text);
    }),
  );
}

export async function sendImage(id: string, file: File): Promise<void> {
  const r = store.rooms[id];
  const c = client;
  if (!r || !c) return;
  if (!file.type.startsWith('image/')) {
    toast(t('err.imageOnly'), file.name);
    return;
  }
  const max = c.serverLimits?.maxBinary ?? store.maxBinary;
  if (file.size > max) {
    toast(t('err.too_large'), `${file.name}: ${Math.round(file.size / 1024)} kB > ${Math.round(max / 1024)} kB`);
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const image: ImageRef = { url: blobUrl(bytes, file.type), mime: file.type, name: file.name, size: file.size };
  const line = pendingLine(r, { image });
  void deliver(
    r,
    line.key,
    post(r, (room, peer) => {
      const opts = { mime: file.type, name: file.name || 'image' };
      if (r.direct && peer) return c.dmBinary(peer.id, bytes, opts);
      if (!room) return Promise.reject(new RoomcastError('not_member', `you are not in room "${id}"`));
      return room.sendBinary(bytes, opts);
    }),
  );
}

export function discard(id: string, key: string): void {
  const r = store.rooms[id];
  if (!r) return;
  const i = r.pending.findIndex((l) => l.key === key);
  if (i >= 0) r.pending.splice(i, 1);
}

export function retry(id: string, key: string): void {
  const r = store.rooms[id];
  const l = r?.pending.find((x) => x.key === key);
  if (!r || !l || l.state !== 'failed') return;
  discard(id, key);
  if (l.text !== undefined) sendText(id, l.text);
}

export function pendingCount(): number {
  let n = 0;
  for (const r of Object.values(store.rooms)) n += r.pending.filter((l) => l.state === 'pending').length;
  return n;
}

export function shareLink(id: string): string {
  return `${location.origin}${location.pathname}#/r/${encodeURIComponent(id)}`;
}

/** Whether the admin page applies: an admin token, or the server on this machine. */
export function adminAllowed(): boolean {
  return store.isAdmin || ['localhost', '127.0.0.1', '[::1]'].includes(location.hostname);
}
