import { CloseCode, MAX_NAME_LENGTH } from '@roomcast/protocol';
import type { User } from '../core/session.js';
import { GuestTokens, normalizeName } from './guest.js';
import { JwtVerifier, TokenError, type TokenClaims } from './jwt.js';
import { newUserId, randomId } from '../core/ids.js';

export type AuthMode = 'guest' | 'jwt' | 'both';

/** A connection's identity once known. */
export interface Authenticated {
  user: User;
  /** Token expiry, ms since epoch; null for guests. */
  exp: number | null;
  /** Private rooms the token lets the user join. */
  rooms: string[];
  /** For guests: the token that brings them back as the same user. */
  guestToken?: string;
}

export type UpgradeIdentity =
  | { kind: 'ok'; auth: Authenticated }
  /** No credentials yet: the client must send {"op":"auth"} first. */
  | { kind: 'pending' }
  | { kind: 'fail'; code: number; reason: string };

/** Everything about who a client is: guest tokens, JWTs, and which of them this server accepts. */
export class Authenticator {
  constructor(
    readonly mode: AuthMode,
    private readonly guests: GuestTokens,
    private readonly jwt: JwtVerifier | null,
  ) {}

  get acceptsTokens(): boolean {
    return this.jwt !== null && this.mode !== 'guest';
  }

  /** Identity from the upgrade request's query (`token`, `name`, `guest`) and Authorization header. */
  async fromUpgrade(params: URLSearchParams, authorization: string | undefined): Promise<UpgradeIdentity> {
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
    const token = params.get('token') || bearer;
    if (token) {
      if (!this.acceptsTokens) {
        return { kind: 'fail', code: CloseCode.Unauthorized, reason: 'this server accepts guests only; connect with ?name=YOUR_NAME instead of a token' };
      }
      try {
        return { kind: 'ok', auth: this.fromClaims(await this.verifyToken(token)) };
      } catch (err) {
        return { kind: 'fail', code: CloseCode.Unauthorized, reason: (err as Error).message };
      }
    }
    if (this.mode === 'jwt') return { kind: 'pending' };
    return this.guest(params);
  }

  /** Verifies a JWT (upgrade, in-band `auth`, or a refresh). Throws TokenError. */
  async verifyToken(token: string): Promise<TokenClaims> {
    if (!this.jwt || this.mode === 'guest') throw new TokenError('this server accepts guests only: token authentication is not enabled');
    return this.jwt.verify(token);
  }

  fromClaims(c: TokenClaims): Authenticated {
    return { user: { id: c.sub, name: c.name, guest: false, admin: c.admin }, exp: c.exp, rooms: c.rooms };
  }

  /**
   * The user an HTTP request's bearer token names (guest token or JWT), or null. `admin`: the
   * JWT's `admin` claim (the admin API's guard); a guest is never an admin.
   */
  async userOf(token: string): Promise<{ id: string; name: string; admin: boolean } | null> {
    if (this.mode !== 'jwt') {
      const guest = await this.guests.verify(token);
      if (guest) return { id: guest.id, name: guest.name, admin: false };
    }
    if (!this.acceptsTokens) return null;
    try {
      const c = await this.verifyToken(token);
      return { id: c.sub, name: c.name, admin: c.admin };
    } catch {
      return null;
    }
  }

  private async guest(params: URLSearchParams): Promise<UpgradeIdentity> {
    const rawName = params.get('name');
    let name: string | null = null;
    if (rawName !== null) {
      name = normalizeName(rawName);
      if (name === null) {
        return { kind: 'fail', code: CloseCode.BadParams, reason: `name must be 1-${MAX_NAME_LENGTH} characters after trimming, with no control characters` };
      }
    }
    let user: User;
    const token = params.get('guest');
    if (token) {
      const known = await this.guests.verify(token);
      if (!known) {
        return { kind: 'fail', code: CloseCode.Unauthorized, reason: 'the guest token is not valid on this server; connect without it to start as a new guest' };
      }
      user = { id: known.id, name: name ?? known.name, guest: true, admin: false };
    } else {
      user = { id: newUserId(), name: name ?? `guest-${randomId(4)}`, guest: true, admin: false };
    }
    return { kind: 'ok', auth: { user, exp: null, rooms: [], guestToken: await this.guests.issue(user) } };
  }
}
