import { reactive } from 'vue';

// Keeping a guest identity: a guest has no password, only the guest token the server signed, so
// signing out forgets the user for good unless the token is kept. The token is offered as a
// recovery code (to paste on the login screen) and as a recovery link (`#/recover/CODE`: the
// fragment never reaches a server, and the page drops it from the address bar at once).

/** Whether the sign-out dialog is open. */
export const signOutAsk = reactive({ open: false });

/**
 * A recovery link opened while this browser is signed in as someone else: its code waits here
 * while the page asks whether to switch, since switching would drop the current identity.
 */
export const switchAsk = reactive({ code: '' });

const PREFIX = '#/recover/';

/** The link that signs in as this guest again, on this server. */
export function recoveryLink(code: string): string {
  return `${location.origin}${location.pathname}${PREFIX}${encodeURIComponent(code)}`;
}

/** The code in what the user pasted: the code itself, or a recovery link. Empty if none. */
export function recoveryCodeFrom(input: string): string {
  const s = input.trim();
  const i = s.indexOf(PREFIX);
  if (i < 0) return /\s/.test(s) ? '' : s;
  try {
    return decodeURIComponent(s.slice(i + PREFIX.length).split(/[?#\s]/)[0] ?? '');
  } catch {
    return '';
  }
}

/** The recovery code in a location hash (a recovery link was opened), if any. */
export function recoveryInHash(hash: string): string {
  return hash.startsWith(PREFIX) ? recoveryCodeFrom(hash) : '';
}

/** Set when an administrator closed every connection of this user (close code 4410): the SDK stops reconnecting. */
export const ended = reactive({ byAdmin: false, reason: '' });
