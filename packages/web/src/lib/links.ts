import { store } from './store.js';

// Where things are: a room's shareable link, and whether the admin page applies.

export function shareLink(id: string): string {
  return `${location.origin}${location.pathname}#/r/${encodeURIComponent(id)}`;
}

/** Whether the admin page applies: an admin token, or the server on this machine. */
export function adminAllowed(): boolean {
  return store.isAdmin || ['localhost', '127.0.0.1', '[::1]'].includes(location.hostname);
}
