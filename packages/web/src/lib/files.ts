import { reactive, ref } from 'vue';
import type { RoomcastClient } from '@roomcast/client';
import { client, store, type ImageRef, type MsgLine } from './store.js';

// Where a file's bytes come from: a blob: URL of bytes this page has (my own send, a live
// binary frame), else the server's file URL with the SDK's short-lived file key (`?key=`), never
// the sign-in token. The key comes after the connection does and changes now and then, so the
// URL is worked out when rendering, and renders again when the SDK says the key changed.
// Also: which image the in-page viewer shows.

/** Bumped on every new file key, so the URLs made from it are made again. */
const keyTick = ref(0);

/** Re-renders file URLs whenever this client gets a new file key (its `filekey` event); returns the unsubscribe. */
export function watchFileKey(c: RoomcastClient): () => void {
  return c.on('filekey', () => keyTick.value++);
}

/** The URL to show or download a file from, or undefined while there is none yet (no key). */
export function fileSrc(f: ImageRef | undefined): string | undefined {
  if (!f) return undefined;
  void keyTick.value; // a dependency: a new key makes a new URL
  if (f.url) return f.url;
  const c = client();
  return (f.message && c ? c.fileUrl(f.message) : null) ?? undefined;
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
