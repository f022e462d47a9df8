import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import type { UserRef } from '@roomcast/protocol';

const KEY_FILE = 'guest.key';

/**
 * Signed guest tokens: a guest who comes back with one is the same user. The HMAC key lives in
 * the data directory, so tokens stay valid across restarts.
 */
export class GuestTokens {
  private constructor(private readonly key: Uint8Array) {}

  /** Loads the key from `dataDir/guest.key`, creating it on first start. */
  static open(dataDir: string): GuestTokens {
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, KEY_FILE);
    let hex: string;
    try {
      hex = readFileSync(path, 'utf8').trim();
    } catch {
      hex = randomBytes(32).toString('hex');
      writeFileSync(path, `${hex}\n`, { mode: 0o600, flag: 'wx' });
    }
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${path} does not hold a 64-hex-digit key; delete it to make a new one`);
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
  if (length < 1 || length > 32 || CONTROL.test(name)) return null;
  return name;
}
