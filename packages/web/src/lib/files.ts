import { reactive, ref } from 'vue';
import type { RoomcastClient } from '@roomcast/client';
import { client, store, type ImageRef, type MsgLine } from './store.js';

// Where a file's bytes come from: a blob: URL of bytes this page has (my own send, a live
// binary frame), else the server's file URL with the SDK's short-lived file key (`?key=`), never
// the sign-in token. The key comes after the connection does and changes now and then (at half
// its life, and after every reconnect), so links are worked out when rendering, with the key
// of the moment. An image keeps the URL it was first shown with, so a new key does not make the
// browser fetch every image on the page again; only one that fails to load (its key expired)
// gets a new one (`imageFailed`).
// Also: which image the in-page viewer shows.

/** Bumped on every new file key, so the URLs made from it are made again. */
const keyTick = ref(0);
/** Bumped when an image failed to load, so images without a kept URL are asked for again. */
const failTick = ref(0);

/** Re-renders file URLs whenever this client gets a new file key (its `filekey` event); returns the unsubscribe. */
export function watchFileKey(c: RoomcastClient): () => void {
  return c.on('filekey', () => keyTick.value++);
}

/** The URL to download a file from (a link: the current key), or undefined while there is none yet. */
export function fileSrc(f: ImageRef | undefined): string | undefined {
  if (!f) return undefined;
  void keyTick.value; // a dependency: a new key makes a new URL
  if (f.url) return f.url;
  const c = client();
  return (f.message && c ? c.fileUrl(f.message) : null) ?? undefined;
}

/** Images shown, by room and seq, with the URL they were first shown with. */
const shown = new Map<string, string>();
/** Plenty for a page's images; the oldest go first (they get a URL again if shown again). */
const SHOWN_MAX = 2000;

const shownKey = (f: ImageRef) => (f.message ? `${f.message.room}\n${f.message.seq}` : '');

/** The URL to show an image from: the one it was first shown with, while that one works. */
export function imageSrc(f: ImageRef | undefined): string | undefined {
  if (!f) return undefined;
  if (f.url) return f.url;
  void failTick.value;
  const k = shownKey(f);
  const kept = k ? shown.get(k) : undefined;
  if (kept) return kept;
  const url = fileSrc(f);
  if (url && k) {
    shown.set(k, url);
    if (shown.size > SHOWN_MAX) shown.delete(shown.keys().next().value as string);
  }
  return url;
}

/** An image did not load (an expired key, say): the next render asks for a URL with the current key. */
export function imageFailed(f: ImageRef | undefined): void {
  const k = f ? shownKey(f) : '';
  if (k && shown.delete(k)) failTick.value++;
}

// ---- the image viewer ------------------------------------------------------------------------------

/** The image the viewer shows: a line of a room, by key. */
export const viewer = reactive({ room: null as string | null, key: null as string | null });

export function openViewer(room: string, key: string): void {
  viewer.room = room;
  viewer.key = key;
}

export function closeViewer(): void {
  viewer.room = null;
  viewer.key = null;
}

/** The room's images in the order they show (stored, then my pending ones), for ← and →. */
export function roomImages(room: string): MsgLine[] {
  const r = store.rooms[room];
  if (!r) return [];
  const out: MsgLine[] = [];
  for (const l of [...r.lines, ...r.pending]) if (l.kind === 'msg' && l.image && !l.unsent) out.push(l);
  return out;
}
