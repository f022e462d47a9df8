import { loadSession } from './session.js';
import { store } from './store.js';

// The server's admin HTTP API (rooms, members, users) for the admin page: a small typed fetch
// wrapper. The credential is an admin user's own sign-in token (a JWT with the `admin` claim),
// else the server's API key pasted on the page, which is kept in sessionStorage only (this tab,
// until it closes), never in localStorage.

export interface AdminRoom {
  id: string;
  title: string | null;
  visibility: 'public' | 'private';
  direct: boolean;
  owner: string | null;
  capacity: number | null;
  persist: boolean;
  createdAt: number;
  members: number;
  online: number;
  lastSeq: number;
}

export interface AdminMember {
  id: string;
  name: string;
  role: 'owner' | 'member';
  online: boolean;
  readSeq: number;
  joinedAt: number;
}

export interface AdminUser {
  id: string;
  name: string;
  connections: number;
  rooms: string[];
}

/** One page of a list; `next` is the cursor of the next page, absent on the last. */
export interface Page<T> {
  items: T[];
  next?: string | undefined;
}

/** A refusal or failure, with the server's code (or `network`) and a sentence to show. */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const KEY_STORAGE = 'roomcast.adminKey';

/** The API key pasted on this tab, if any. */
export function savedApiKey(): string {
  try {
    return sessionStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

export function saveApiKey(key: string): void {
  try {
    sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // Storage disabled: the key lasts until the page is left (the caller keeps it too).
  }
}

export function forgetApiKey(): void {
  try {
    sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // nothing to forget
  }
}

/** What authorizes the admin API here: an admin's sign-in token, else a pasted API key, else nothing. */
export function adminCredential(): { kind: 'token' | 'key'; value: string } | null {
  const token = store.isAdmin ? loadSession()?.token : undefined;
  if (token) return { kind: 'token', value: token };
  const key = savedApiKey();
  return key ? { kind: 'key', value: key } : null;
}

async function call<T>(credential: string, method: 'GET' | 'POST' | 'DELETE', path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { method, headers: { authorization: `Bearer ${credential}` }, cache: 'no-store' });
  } catch (err) {
    throw new AdminApiError('network', `the server could not be reached (${err instanceof Error ? err.message : String(err)})`, 0);
  }
  const body = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof e?.code === 'string' ? e.code : `http_${res.status}`;
    const message = typeof e?.message === 'string' ? e.message : `the server answered ${res.status} ${res.statusText}`;
    throw new AdminApiError(code, message, res.status);
  }
  return body as T;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const seg = encodeURIComponent;

/** The admin API with this credential. */
export function adminApi(credential: string) {
  return {
    async rooms(opts: { q?: string; limit?: number; cursor?: string | undefined } = {}): Promise<Page<AdminRoom>> {
      const r = await call<{ rooms: AdminRoom[]; next?: string }>(credential, 'GET', `/api/rooms${query({ q: opts.q, limit: opts.limit, cursor: opts.cursor })}`);
      return { items: r.rooms, next: r.next };
    },
    room(id: string): Promise<AdminRoom> {
      return call<AdminRoom>(credential, 'GET', `/api/rooms/${seg(id)}`);
    },
    async members(id: string, opts: { limit?: number; cursor?: string | undefined } = {}): Promise<Page<AdminMember>> {
      const r = await call<{ members: AdminMember[]; next?: string }>(credential, 'GET', `/api/rooms/${seg(id)}/members${query({ limit: opts.limit, cursor: opts.cursor })}`);
      return { items: r.members, next: r.next };
    },
    deleteRoom(id: string): Promise<{ room: string; deleted: true }> {
      return call(credential, 'DELETE', `/api/rooms/${seg(id)}`);
    },
    async users(opts: { limit?: number; cursor?: string | undefined } = {}): Promise<Page<AdminUser> & { scope: 'node' | 'server' }> {
      const r = await call<{ users: AdminUser[]; next?: string; scope?: 'node' | 'server' }>(credential, 'GET', `/api/users${query({ online: true, limit: opts.limit, cursor: opts.cursor })}`);
      return { items: r.users, next: r.next, scope: r.scope ?? 'server' };
    },
    disconnect(user: string): Promise<{ user: string; disconnected: true }> {
      return call(credential, 'POST', `/api/users/${seg(user)}/disconnect`);
    },
  };
}

export type AdminApi = ReturnType<typeof adminApi>;
