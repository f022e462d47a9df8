import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { MAX_NAME_LENGTH, type UserRef } from '@roomcast/protocol';

/** Signed guest tokens: a guest who comes back with one is the same user. */
export class GuestTokens {
  private constructor(private readonly key: Uint8Array) {}

  /** The key is a secret kept in the store, so tokens survive restarts and every node accepts them. */
  static async open(store: { sharedSecret(name: string, candidate: string): Promise<string> }): Promise<GuestTokens> {
    const hex = await store.sharedSecret('guest-token-key', randomBytes(32).toString('hex'));
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error('the stored guest-token key is not 64 hex digits');
    return new GuestTokens(Buffer.from(hex, 'hex'));
  }

  issue(user: UserRef): Promise<string> {
    return new SignJWT({ name: user.name, typ: 'guest' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuedAt()
      .sign(this.key);
  }

  /** The guest the token names, or null when it is not one of ours. */
  async verify(token: string): Promise<UserRef | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      if (payload.typ !== 'guest' || typeof payload.sub !== 'string' || typeof payload.name !== 'string') return null;
      return { id: payload.sub, name: payload.name };
    } catch {
      return null;
    }
  }
}

const CONTROL = /\p{Cc}|\p{Cf}/u;

/** A nickname after trimming: 1–32 characters, no control or format characters; null otherwise. */
export function normalizeName(raw: string): string | null {
  const name = raw.trim();
  const length = [...name].length;
  if (length < 1 || length > MAX_NAME_LENGTH || CONTROL.test(name)) return null;
  return name;
}
