import { CloseCode } from '@roomcast/protocol';
import type { GuestTokens } from '../auth/guest.js';
import { normalizeName } from '../auth/guest.js';
import { newUserId, randomId } from '../core/ids.js';
import type { User } from '../core/session.js';

export type Identity = { ok: true; user: User } | { ok: false; code: number; reason: string };

/**
 * Who a new connection is, from its upgrade query: `guest` (a token from an earlier welcome)
 * keeps the same user; `name` sets or changes the nickname; neither gives a new guest.
 */
export async function resolveGuest(params: URLSearchParams, guests: GuestTokens): Promise<Identity> {
  const rawName = params.get('name');
  let name: string | null = null;
  if (rawName !== null) {
    name = normalizeName(rawName);
    if (name === null) {
      return { ok: false, code: CloseCode.BadParams, reason: 'name must be 1-32 characters after trimming, with no control characters' };
    }
  }
  const token = params.get('guest');
  if (token) {
    const known = await guests.verify(token);
    if (!known) return { ok: false, code: CloseCode.Unauthorized, reason: 'the guest token is not valid on this server; connect without it to start as a new guest' };
    return { ok: true, user: { id: known.id, name: name ?? known.name, guest: true, admin: false } };
  }
  return { ok: true, user: { id: newUserId(), name: name ?? `guest-${randomId(4)}`, guest: true, admin: false } };
}
