import { reactive } from 'vue';
import type { Message, UserRef } from '@roomcast/client';
import { client, store } from './store.js';
import { toastError } from './toasts.js';

// Searching my rooms' messages (the server's `search`, newest first, a page at a time) and
// opening a hit: its room, scrolled to it (loaded around it if it is far back), highlighted.

export interface Hit {
  key: string;
  room: string;
  seq: number;
  from: UserRef;
  ts: number;
  text: string;
}

export const search = reactive({
  q: '',
  hits: [] as Hit[],
  more: false,
  next: undefined as number | undefined,
  loading: false,
  /** A search has answered for `q` (so "no messages found" can show). */
  done: false,
});

/** Each search bumps it: an answer to an older query is dropped. */
let generation = 0;
let focusN = 0;

const PAGE = 20;

function toHit(m: Message): Hit {
  return { key: `${m.room}:${m.seq}`, room: m.room, seq: m.seq, from: m.from, ts: m.ts, text: m.text ?? '' };
}

async function ask(q: string, before: number | undefined): Promise<void> {
  const c = client();
  if (!c) return;
  const gen = ++generation;
  search.loading = true;
  try {
    const page = await c.search(q, { limit: PAGE, ...(before !== undefined ? { before } : {}) });
    if (gen !== generation) return;
    const hits = page.messages.map(toHit);
    search.hits = before === undefined ? hits : [...search.hits, ...hits.filter((h) => !search.hits.some((x) => x.key === h.key))];
    search.more = page.more;
    search.next = page.next;
    search.done = true;
  } catch (err) {
    if (gen === generation) toastError(err);
  } finally {
    if (gen === generation) search.loading = false;
  }
}

/** Searches for `q` (trimmed; an empty query clears the results). */
export function runSearch(q: string): Promise<void> {
  search.q = q;
  const query = q.trim();
  if (!query) {
    clearSearch();
    return Promise.resolve();
  }
  return ask(query, undefined);
}

export function moreHits(): Promise<void> {
  if (!search.more || search.loading || !search.q.trim()) return Promise.resolve();
  return ask(search.q.trim(), search.next);
}

export function clearSearch(): void {
  generation++;
  Object.assign(search, { q: '', hits: [], more: false, next: undefined, loading: false, done: false });
}

/** Asks the room's view to show this message once the room is open (ChatView takes it). */
export function focusHit(hit: Hit): void {
  store.focus = { room: hit.room, seq: hit.seq, n: ++focusN };
}

/** The part of the text around the first match, split so the match can be marked. */
export function snippet(text: string, q: string, context = 40): { before: string; match: string; after: string } {
  const at = q ? text.toLowerCase().indexOf(q.toLowerCase()) : -1;
  if (at < 0) return { before: text.slice(0, context * 2), match: '', after: text.length > context * 2 ? '…' : '' };
  const from = Math.max(0, at - context);
  const to = Math.min(text.length, at + q.length + context * 2);
  return {
    before: (from > 0 ? '…' : '') + text.slice(from, at),
    match: text.slice(at, at + q.length),
    after: text.slice(at + q.length, to) + (to < text.length ? '…' : ''),
  };
}
