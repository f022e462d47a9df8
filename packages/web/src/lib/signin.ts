import { RoomcastClient, type RoomcastError } from '@roomcast/client';
import { detachAll, onDirect } from './binding.js';
import { closeViewer, watchFileKey } from './files.js';
import { ended, recoveryInHash, signOutAsk, switchAsk } from './identity.js';
import { CloseCode } from '@roomcast/protocol';
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

/**
 * Signs in again with what the last visit stored, if anything; an opened recovery link
 * (`#/recover/CODE`) comes first: it is taken out of the address bar and signs in as that guest.
 */
export function resume(): boolean {
  if (takeRecoveryLink() === 'recovering') return true;
  const s = loadSession();
  if (!s) return false;
  void signIn(s);
  return true;
}

/**
 * A recovery link in the address (at load, or opened in a running tab): the code leaves the
 * address bar at once; with nobody signed in here it signs in, and while someone else is, the
 * page asks first (`switchAsk`, answered by `answerSwitch`).
 */
export function takeRecoveryLink(): 'none' | 'recovering' | 'asking' {
  const code = recoveryInHash(location.hash);
  if (!code) return 'none';
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  const s = loadSession();
  if (s?.guestToken === code && store.phase === 'ready') return 'none'; // that guest already
  if (!s || s.guestToken === code) {
    void recover(code);
    return 'recovering';
  }
  switchAsk.code = code;
  return 'asking';
}

/** Answers the question of a recovery link opened while signed in as someone else. */
export function answerSwitch(toLink: boolean): void {
  const code = switchAsk.code;
  switchAsk.code = '';
  if (toLink && code) void recover(code);
}

/** Signs in as the guest whose recovery code (guest token) this is; a refused code says so. */
export function recover(code: string): Promise<boolean> {
  return signIn({ guestToken: code }, true);
}

/**
 * Signs in with a saved or typed identity. `recovering`: the guest token is a recovery code the
 * user typed, so a refused one is an error to show (otherwise the SDK would quietly go on as a
 * new guest, which is right for a stale saved token).
 */
export async function signIn(s: SavedSession, recovering = false): Promise<boolean> {
  signOutQuietly();
  ended.byAdmin = false;
  store.phase = 'connecting';
  store.loginError = '';
  const c = new RoomcastClient(wsUrl(), {
    ...(s.token ? { token: s.token } : { name: s.name, ...(s.guestToken ? { guestToken: s.guestToken } : {}) }),
    maxReconnectDelay: MAX_RECONNECT_DELAY,
  });
  setClient(c);
  let refused = false;
  watchFileKey(c);
  c.on('state', ({ state, retryAt }) => {
    store.conn.state = state;
    store.conn.retryAt = retryAt ?? 0;
    if (state === 'connected') {
      if (recovering && refused) return; // signed out below: not a session to keep
      store.conn.everConnected = true;
      onConnected();
    }
  });
  // Each further attempt while still reconnecting (the state stays `connecting`).
  c.on('retry', ({ retryAt }) => (store.conn.retryAt = retryAt));
  c.on('error', ({ error, room }) => {
    if (error.code === 'unauthorized' && store.phase !== 'ready') refused = true;
    if (error.closeCode === CloseCode.Disconnected) {
      // Shown as a banner until the user connects again (Disconnected.vue), not a passing notice.
      ended.byAdmin = true;
      ended.reason = error.message;
      return;
    }
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
    if (recovering) {
      store.loginError = t('identity.badCode');
      return false;
    }
    store.loginError = e.code === 'unauthorized' && !s.token ? t('login.tokenRequired') : t('login.failed', { message: errorText(err).text + (e.message ? ` (${e.message})` : '') });
    if (e.code === 'unauthorized' && !s.token && store.authMode === 'guest') store.authMode = 'jwt';
    clearSession();
    return false;
  }
  if (client() !== c) return false;
  if (recovering && refused) {
    // The server did not take the code and the SDK went on as a new guest: not what was asked.
    signOutQuietly();
    store.phase = 'login';
    store.loginError = t('identity.badCode');
    return false;
  }
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
  closeViewer();
  signOutAsk.open = false;
  client()?.close();
  setClient(null);
  detachAll();
  store.rooms = {};
  store.publicRooms = [];
  store.active = null;
  store.me = null;
}

/** The sign-out button: a guest is first told what signing out loses (SignOutDialog). */
export function requestSignOut(): void {
  if (client()?.guestToken) signOutAsk.open = true;
  else signOut();
}

/** The guest token of this session: the code that signs in as the same guest again. */
export function recoveryCode(): string | null {
  return client()?.guestToken ?? loadSession()?.guestToken ?? null;
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
