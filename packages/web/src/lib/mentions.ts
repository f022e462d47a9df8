import type { UserRef } from '@roomcast/client';
import type { Token } from './linkify.js';

// @-mentions as text: what the user is typing after an "@" (for the autocomplete), the text with
// a picked name put in, which members a message calls by name (its `mentions`), and the
// "@Name" spans to highlight in a shown message. Pure functions, no DOM.

export type MentionToken = Token | { kind: 'mention'; text: string; me: boolean };

/** The "@query" just before the caret (at the start, or after a space or bracket), if any. */
export function queryAt(text: string, caret: number): { start: number; query: string } | null {
  const m = /(?:^|[\s(（])@([^\s@]{0,32})$/u.exec(text.slice(0, caret));
  if (!m) return null;
  const query = m[1]!;
  return { start: caret - query.length - 1, query };
}

/** Members whose name matches the query: names starting with it first, then containing it. */
export function suggest(users: readonly UserRef[], query: string, max = 6): UserRef[] {
  const q = query.toLowerCase();
  const byName = (a: UserRef, b: UserRef) => a.name.localeCompare(b.name);
  const starts = users.filter((u) => u.name.toLowerCase().startsWith(q)).sort(byName);
  const contains = users.filter((u) => !u.name.toLowerCase().startsWith(q) && u.name.toLowerCase().includes(q)).sort(byName);
  return [...starts, ...contains].slice(0, max);
}

/** The text with the "@query" at `start` replaced by "@Name ", and where the caret goes. */
export function complete(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `;
  const rest = text.slice(caret).replace(/^ /, '');
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * "@Name" as a pattern: not inside a word before it, and for a name ending in a Latin letter or
 * digit not running on into a longer one ("@Bob" is not in "@Bobby"). After a Chinese name the
 * text may go on at once ("@小明你好"), so there is no such check.
 */
function pattern(name: string): string {
  return `(?<![\\p{L}\\p{N}_])@${escape(name)}${/[A-Za-z0-9_]$/.test(name) ? '(?![A-Za-z0-9_])' : ''}`;
}

/**
 * The ids of the users the text calls by "@Name" (what `send` takes as `mentions`). When several
 * users share a name, "@Alice" means the ones picked from the suggestions (`picked`, ids); typed
 * by hand, with none of them picked, it calls them all, since nothing says which one was meant.
 */
export function mentionedIds(text: string, users: readonly UserRef[], picked: ReadonlySet<string> = new Set()): string[] {
  if (!text.includes('@')) return [];
  const named = users.filter((u) => u.name && new RegExp(pattern(u.name), 'u').test(text));
  const byName = new Map<string, UserRef[]>();
  for (const u of named) byName.set(u.name, [...(byName.get(u.name) ?? []), u]);
  const ids: string[] = [];
  for (const same of byName.values()) {
    const chosen = same.length > 1 ? same.filter((u) => picked.has(u.id)) : [];
    ids.push(...(chosen.length > 0 ? chosen : same).map((u) => u.id));
  }
  return [...new Set(ids)];
}

/** Splits the text tokens further at each "@Name" of the given names (longest first). */
export function withMentions(tokens: readonly Token[], names: readonly { name: string; me: boolean }[]): MentionToken[] {
  const usable = names.filter((n) => n.name).sort((a, b) => b.name.length - a.name.length);
  if (usable.length === 0) return [...tokens];
  const re = new RegExp(usable.map((n) => `(${pattern(n.name)})`).join('|'), 'gu');
  const out: MentionToken[] = [];
  for (const tok of tokens) {
    if (tok.kind !== 'text') {
      out.push(tok);
      continue;
    }
    let last = 0;
    for (const m of tok.text.matchAll(re)) {
      const at = m.index ?? 0;
      if (at > last) out.push({ kind: 'text', text: tok.text.slice(last, at) });
      const which = usable[m.slice(1).findIndex((g) => g !== undefined)]!;
      out.push({ kind: 'mention', text: m[0], me: which.me });
      last = at + m[0].length;
    }
    if (last < tok.text.length) out.push({ kind: 'text', text: tok.text.slice(last) });
  }
  return out;
}
