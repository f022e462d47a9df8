import { shallowRef } from 'vue';
import { quoteText, RoomcastError, type Room, type UserRef } from '@roomcast/client';
import { t } from './i18n.js';
import { client, ensureRoom, nextKey, store, type ImageRef, type MsgLine, type Quote, type RoomState } from './store.js';
import { blobUrl } from './timeline.js';
import { dropUpload, keepUpload, takeUpload } from './uploads.js';
import { errorText, toast, toastError } from './toasts.js';

// What I write: a pending line at once, then the SDK's send (queued in its outbox while
// offline). The line goes once the server stored the message, whose stored copy takes its place
// in the timeline; a refused one stays, marked failed, to retry or discard.

export function typing(id: string): void {
  client()?.room(id)?.typing();
}

/** What a text message answers and whom it calls by name. */
export interface Threading {
  replyTo?: Quote | undefined;
  mentions?: string[] | undefined;
}

/** What the composer is doing besides writing a new message: answering one, or changing mine. */
export interface Intent {
  kind: 'reply' | 'edit';
  line: MsgLine;
}

/** The quote a pending reply shows until the server's own takes its place. */
export function quoteOf(line: MsgLine): Quote {
  if (line.unsent) return { seq: line.seq, unsent: true };
  return { seq: line.seq, from: line.from, ...(line.text !== undefined ? { text: quoteText(line.text) } : { mime: (line.image ?? line.file)?.mime }) };
}

function pendingLine(r: RoomState, content: { text?: string; image?: ImageRef } & Threading): MsgLine {
  const line: MsgLine = {
    kind: 'msg',
    key: nextKey('p'),
    seq: 0,
    id: '',
    from: store.me ?? { id: '', name: '' },
    ts: Date.now(),
    mine: true,
    state: 'pending',
    mentionsMe: false,
    unsent: false,
    reactions: [],
    ...content,
  };
  r.pending.push(line);
  return r.pending[r.pending.length - 1]!;
}

/** Takes a pending line away, with the file kept for its Retry and the blob: URL of its bytes (held in memory until revoked). */
function dropPending(r: RoomState, key: string): void {
  const i = r.pending.findIndex((l) => l.key === key);
  const [gone] = i >= 0 ? r.pending.splice(i, 1) : [];
  if (gone?.kind === 'msg' && gone.image?.url.startsWith('blob:')) URL.revokeObjectURL(gone.image.url);
  dropUpload(key);
}

function settle(r: RoomState, key: string, err?: unknown): void {
  const i = r.pending.findIndex((l) => l.key === key);
  if (i < 0) return;
  if (!err) {
    dropPending(r, key);
    return;
  }
  const l = r.pending[i]!;
  l.state = 'failed';
  l.error = errorText(err).text;
  l.errorCode = err instanceof RoomcastError || (typeof err === 'object' && err !== null && 'code' in err) ? String((err as { code: unknown }).code) : undefined;
  toastError(err);
}

/**
 * Refusals that sending the same thing again cannot cure: the message itself is wrong (too long,
 * malformed) or we may not post here. They get Edit and Discard, never Retry.
 */
const FINAL = new Set(['too_large', 'bad_request', 'forbidden', 'room_not_found', 'user_not_found', 'unauthorized', 'rejected', 'banned', 'muted']);

/** Whether a failed line's Retry could work (a refusal for now, a lost connection). */
export function canRetry(line: MsgLine): boolean {
  return line.state === 'failed' && !FINAL.has(line.errorCode ?? '');
}

/** Text taken back from a failed line into the composer of its room (Composer.vue watches it). */
export const restored = shallowRef<{ room: string; text: string; replyTo?: Quote | undefined; n: number } | null>(null);
let restoreSeq = 0;

/** Edit: the failed text goes back into the composer to be shortened or fixed; the line goes. */
export function editFailed(id: string, key: string): void {
  const l = store.rooms[id]?.pending.find((x) => x.key === key);
  if (!l || l.state !== 'failed' || l.text === undefined) return;
  restored.value = { room: id, text: l.text, replyTo: l.replyTo, n: ++restoreSeq };
  discard(id, key);
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
  return () => send(client()?.room(r.id), r.peer);
}

export function sendText(id: string, text: string, threading: Threading = {}): void {
  const r = store.rooms[id];
  const c = client();
  if (!r || !c || !text.trim()) return;
  const mentions = threading.mentions?.length ? threading.mentions : undefined;
  const line = pendingLine(r, { text, replyTo: threading.replyTo, mentions });
  const opts = { ...(threading.replyTo ? { replyTo: threading.replyTo.seq } : {}), ...(mentions ? { mentions } : {}) };
  void deliver(
    r,
    line.key,
    post(r, (room, peer) => {
      if (r.direct && peer) return c.dm(peer.id, text, opts);
      if (!room) return Promise.reject(new RoomcastError('not_member', `you are not in room "${id}"`));
      return room.send(text, opts);
    }),
  );
}

export async function sendImage(id: string, file: File): Promise<void> {
  const r = store.rooms[id];
  const c = client();
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
  keepUpload(line.key, file); // for Retry, if the server refuses it
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
  dropPending(r, key);
}

export function retry(id: string, key: string): void {
  const r = store.rooms[id];
  const l = r?.pending.find((x) => x.key === key);
  if (!r || !l || l.state !== 'failed') return;
  const file = takeUpload(key); // before discard lets it go
  discard(id, key);
  if (l.text !== undefined) sendText(id, l.text, { replyTo: l.replyTo, mentions: l.mentions });
  else if (file) void sendImage(id, file);
}

/** Sends still waiting for the server, in all rooms (shown beside the connection status). */
export function pendingCount(): number {
  let n = 0;
  for (const r of Object.values(store.rooms)) n += r.pending.filter((l) => l.state === 'pending').length;
  return n;
}
