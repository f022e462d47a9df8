import { randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { FILE_KEY_TTL } from '@roomcast/protocol';

// Signed credentials that travel in links rather than in a sign-in: invite link tokens (a room's
// `#/r/ID?invite=…`) and file keys (`/api/rooms/R/files/S?key=…`). Each kind has its own secret
// in the store, so a key of one kind never verifies as the other, nor as a guest token or a JWT,
// and every cluster node and every restart accepts what any of them signed.

/** The part of the Store that keeps shared secrets. */
export interface SecretStore {
  sharedSecret(name: string, candidate: string): Promise<string>;
}

/** The room an invite is for, as far as the token binds it. */
export interface InviteRoom {
  id: string;
  /** The room's creation time: a room deleted and made again under the same id is another room. */
  createdAt: number;
}

/** What an invite token says, once its signature and expiry held. */
export interface InviteClaims {
  room: string;
  /** The member who made it. */
  by: string;
  /** It was made by an admin, who need not be a member. */
  admin: boolean;
  /** When the maker's membership began (ms; 0 for an admin's link): a later membership is not the one that made it. */
  makerSince: number;
  /** Expiry, ms since epoch. */
  expires: number;
}

export type InviteCheck =
  | ({ ok: true } & InviteClaims)
  /** expired: signed by us but past `exp`; other-room: valid, but for another room (or an earlier room of that id); invalid: not ours, or damaged. */
  | { ok: false; why: 'expired' | 'other-room' | 'invalid'; room?: string };

export type FileKeyCheck = { ok: true; user: string; admin: boolean; expires: number } | { ok: false; why: 'expired' | 'invalid' };

async function secretKey(store: SecretStore, name: string): Promise<Uint8Array> {
  const hex = await store.sharedSecret(name, randomBytes(32).toString('hex'));
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`the stored ${name} is not 64 hex digits`);
  return Buffer.from(hex, 'hex');
}

/** Verifies an HS256 token of ours; 'expired' only when the signature held (jose checks it first). */
async function verify(token: string, key: Uint8Array): Promise<JWTPayload | 'expired' | 'invalid'> {
  try {
    return (await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp'] })).payload;
  } catch (err) {
    return err instanceof errors.JWTExpired ? 'expired' : 'invalid';
  }
}

const opened = new WeakMap<SecretStore, Promise<LinkKeys>>();

/** Mints and checks invite link tokens and file keys. */
export class LinkKeys {
  private constructor(
    private readonly inviteKey: Uint8Array,
    private readonly fileKey: Uint8Array,
  ) {}

  /** The keys kept in this store, read once per store object (the core and the HTTP routes share it). */
  static open(store: SecretStore): Promise<LinkKeys> {
    let keys = opened.get(store);
    if (!keys) {
      keys = Promise.all([secretKey(store, 'invite-link-key'), secretKey(store, 'file-key-key')]).then(([i, f]) => new LinkKeys(i, f));
      // A failed read (a store that is down) is not remembered: the next request tries again.
      keys.catch(() => opened.delete(store));
      opened.set(store, keys);
    }
    return keys;
  }

  /**
   * An invite link's token for `room`, made by user `by`, valid for `ttlSec` seconds from `nowMs`
   * (a negative ttl makes one that has expired already, which is how tests get one).
   */
  async invite(room: InviteRoom, by: string, ttlSec: number, nowMs: number, maker: { admin: boolean } | { since: number }): Promise<{ token: string; expires: number }> {
    const exp = Math.floor(nowMs / 1000) + ttlSec;
    const claims: Record<string, unknown> = { typ: 'invite', room: room.id, rc: room.createdAt, by };
    if ('admin' in maker) claims.adm = maker.admin;
    else claims.mj = maker.since;
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(this.inviteKey);
    return { token, expires: exp * 1000 };
  }

  /** Whether `token` is a current invite into `room`. */
  async checkInvite(token: string, room: InviteRoom): Promise<InviteCheck> {
    const p = await verify(token, this.inviteKey);
    if (typeof p === 'string') return { ok: false, why: p };
    if (p.typ !== 'invite' || typeof p.room !== 'string' || typeof p.by !== 'string' || typeof p.exp !== 'number') return { ok: false, why: 'invalid' };
    const admin = p.adm === true;
    if (!admin && typeof p.mj !== 'number') return { ok: false, why: 'invalid' };
    if (p.room !== room.id || p.rc !== room.createdAt) return { ok: false, why: 'other-room', room: p.room };
    return { ok: true, room: p.room, by: p.by, admin, makerSince: admin ? 0 : (p.mj as number), expires: p.exp * 1000 };
  }

  /** A key that fetches `userId`'s files for FILE_KEY_TTL seconds (or `ttlSec`; negative in tests); an admin's fetches any room's. */
  async fileKeyFor(userId: string, nowMs: number, ttlSec: number = FILE_KEY_TTL, admin = false): Promise<{ key: string; expires: number }> {
    const exp = Math.floor(nowMs / 1000) + ttlSec;
    // An admin counts as a member of every room, for files as for history.
    const key = await new SignJWT(admin ? { typ: 'files', adm: true } : { typ: 'files' }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime(exp).sign(this.fileKey);
    return { key, expires: exp * 1000 };
  }

  /** The user a file key belongs to. */
  async checkFileKey(key: string): Promise<FileKeyCheck> {
    const p = await verify(key, this.fileKey);
    if (typeof p === 'string') return { ok: false, why: p };
    if (p.typ !== 'files' || typeof p.sub !== 'string' || typeof p.exp !== 'number') return { ok: false, why: 'invalid' };
    return { ok: true, user: p.sub, admin: p.adm === true, expires: p.exp * 1000 };
  }
}
