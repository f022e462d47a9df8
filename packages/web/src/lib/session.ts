import { roomTargetFrom, safeDecode } from './room-ids.js';

// What survives a page reload: who signed in, and the guest token that keeps a guest the same
// user. Stored in localStorage on this origin only.

export interface SavedSession {
  name?: string;
  guestToken?: string;
  token?: string;
}

const KEY = 'roomcast.session';

export function loadSession(): SavedSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    const s: SavedSession = {};
    if (typeof o.name === 'string') s.name = o.name;
    if (typeof o.guestToken === 'string') s.guestToken = o.guestToken;
    if (typeof o.token === 'string') s.token = o.token;
    return s.name || s.token ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: SavedSession): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    // Storage full or disabled: the session lasts for this page only.
  }
}

export function clearSession(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // nothing to clear
  }
}

/** The claims of a JWT, unverified (only to show the name and whether the admin page applies). */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const v = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The part of the location hash after `#/`, split: `#/r/abc` → ['r', 'abc']; `?invite=` kept apart. */
export function parseRoute(hash: string): { name: 'home' } | { name: 'room'; id: string; invite?: string } | { name: 'dm'; user: string } | { name: 'admin' } {
  const whole = hash.replace(/^#\/?/, '');
  const q = whole.indexOf('?');
  const path = q < 0 ? whole : whole.slice(0, q);
  const invite = q < 0 ? null : new URLSearchParams(whole.slice(q + 1)).get('invite');
  const [head, ...rest] = path.split('/');
  // A malformed escape (`%E0%A4%A`) stays as typed: the room-id check then names it.
  const arg = safeDecode(rest.join('/'));
  if (head === 'r' && arg) return invite ? { name: 'room', id: arg, invite } : { name: 'room', id: arg };
  if (head === 'dm' && arg) return { name: 'dm', user: arg };
  if (head === 'admin') return { name: 'admin' };
  return { name: 'home' };
}

/** A room id from what a user pasted: an id, or a link ending in `#/r/ID` (see roomTargetFrom). */
export function roomIdFrom(input: string): string {
  return roomTargetFrom(input).id;
}
