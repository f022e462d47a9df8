import { RoomcastClient, type RoomcastError } from '@roomcast/client';
import { detachAll, onDirect } from './binding.js';
import { t } from './i18n.js';
import { refreshPublic, refreshRooms } from './rooms.js';
import { clearSession, jwtClaims, loadSession, saveSession, type SavedSession } from './session.js';
import { client, setClient, store, type AuthMode } from './store.js';
import { errorText, toastError } from './toasts.js';

// Signing in and out: the SDK client for a saved or typed identity, its connection state in the
// store (with the SDK's own time of the next reconnect attempt, for the countdown), the identity
// kept in localStorage.

/** A person is watching: come back sooner than the SDK's default 20 s ceiling. */
const MAX_RECONNECT_DELAY = 10_000;
/** Public rooms' online counts change without events to us: the list is refreshed now and then. */
const PUBLIC_REFRESH_MS = 15_000;

let publicTimer: ReturnType<typeof setInterval> | undefined;

function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/** Which sign-in the server takes (`GET /api/client-config`). */
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
  const c = new RoomcastClient(wsUrl(), {
    ...(s.token ? { token: s.token } : { name: s.name, ...(s.guestToken ? { guestToken: s.guestToken } : {}) }),
    maxReconnectDelay: MAX_RECONNECT_DELAY,
  });
  setClient(c);
  c.on('state', ({ state, retryAt }) => {
    store.conn.state = state;
    store.conn.retryAt = retryAt ?? 0;
    if (state === 'connected') {
      store.conn.everConnected = true;
      onConnected();
    }
  });
  // Each further attempt while still reconnecting (the state stays `connecting`).
  c.on('retry', ({ retryAt }) => (store.conn.retryAt = retryAt));
  c.on('error', ({ error, room }) => {
    if (room && store.rooms[room]) return; // reported by the room's closed event
    if (error.code === 'unauthorized' && store.phase === 'ready' && c.guestToken) return; // a new guest identity: silent
    if (store.phase === 'ready') toastError(error);
  });
  c.on('dm', (m) => onDirect(m));
  try {
    await c.connect();
  } catch (err) {
    if (client() !== c) return false;
    setClient(null);
    store.phase = 'login';
    const e = err as RoomcastError;
    store.loginError = e.code === 'unauthorized' && !s.token ? t('login.tokenRequired') : t('login.failed', { message: errorText(err).text + (e.message ? ` (${e.message})` : '') });
    if (e.code === 'unauthorized' && !s.token && store.authMode === 'guest') store.authMode = 'jwt';
    clearSession();
    return false;
  }
  if (client() !== c) return false;
  store.me = c.user;
  store.maxBinary = c.serverLimits?.maxBinary ?? store.maxBinary;
  const claims = s.token ? jwtClaims(s.token) : null;
  store.isAdmin = claims?.admin === true;
  saveSession(s.token ? { token: s.token } : { name: c.user?.name ?? s.name, ...(c.guestToken ? { guestToken: c.guestToken } : {}) });
  store.phase = 'ready';
  clearInterval(publicTimer);
  publicTimer = setInterval(() => {
    if (client() === c && c.state === 'connected' && document.visibilityState === 'visible') void refreshPublic();
  }, PUBLIC_REFRESH_MS);
  return true;
}

function signOutQuietly(): void {
  clearInterval(publicTimer);
  client()?.close();
  setClient(null);
  detachAll();
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
  const c = client();
  if (!c) return;
  store.me = c.user;
  if (c.guestToken) {
    const s = loadSession();
    if (s && !s.token && s.guestToken !== c.guestToken) saveSession({ ...s, guestToken: c.guestToken });
  }
  void refreshRooms();
}
