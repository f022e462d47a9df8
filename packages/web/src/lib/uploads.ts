import { reactive } from 'vue';

// The files of image sends that have not been stored yet (pending or failed), so Retry can send
// the file again instead of only text. Bounded: at most MAX_FILES files and MAX_BYTES bytes in
// all (each is at most the server's maxBinary, 1 MiB by default); past that the oldest is let
// go, and its failed line offers Discard only. A stored, discarded or retried send lets go at once.

/** At most this many files are kept for a retry. */
export const MAX_FILES = 20;
/** And at most this many bytes in all. */
export const MAX_BYTES = 32 * 1024 * 1024;

const files = new Map<string, File>();
/** The keys of the lines whose file is kept (reactive, so Retry shows and goes with it). */
const kept = reactive(new Set<string>());

/** Keeps the file of the pending line `key` until it is stored or discarded. */
export function keepUpload(key: string, file: File): void {
  files.set(key, file);
  kept.add(key);
  let total = 0;
  for (const f of files.values()) total += f.size;
  // Oldest first (a Map iterates in insertion order).
  for (const [k, f] of files) {
    if (files.size <= MAX_FILES && total <= MAX_BYTES) break;
    if (k === key) break;
    total -= f.size;
    dropUpload(k);
  }
}

/** Whether the file of the line `key` is still kept (its Retry can send it again). */
export function hasUpload(key: string): boolean {
  return kept.has(key);
}

/** The kept file, let go. */
export function takeUpload(key: string): File | undefined {
  const f = files.get(key);
  dropUpload(key);
  return f;
}

export function dropUpload(key: string): void {
  files.delete(key);
  kept.delete(key);
}

/** How many files are kept (for tests). */
export function uploadCount(): number {
  return files.size;
}
