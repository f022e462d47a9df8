import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from 'jose';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Test tokens signed the ways real backends (and attackers) sign them.

export const SECRET = 'test-secret-that-is-at-least-32-chars-long';

export interface Claims {
  sub?: string;
  name?: string;
  rooms?: string[];
  admin?: boolean;
  iss?: string;
  aud?: string;
  /** Seconds from now (negative: already expired); omit for none. */
  expIn?: number | null;
  /** Seconds from now. */
  nbfIn?: number;
}

function build(c: Claims): SignJWT {
  const now = Math.floor(Date.now() / 1000);
  const extra: Record<string, unknown> = {};
  if (c.name !== undefined) extra.name = c.name;
  if (c.rooms !== undefined) extra.rooms = c.rooms;
  if (c.admin !== undefined) extra.admin = c.admin;
  let jwt = new SignJWT(extra).setIssuedAt();
  if (c.sub !== undefined) jwt = jwt.setSubject(c.sub);
  if (c.expIn !== null) jwt = jwt.setExpirationTime(now + (c.expIn ?? 3600));
  if (c.nbfIn !== undefined) jwt = jwt.setNotBefore(now + c.nbfIn);
  if (c.iss !== undefined) jwt = jwt.setIssuer(c.iss);
  if (c.aud !== undefined) jwt = jwt.setAudience(c.aud);
  return jwt;
}

export function hs256(c: Claims, secret = SECRET): Promise<string> {
  return build(c).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`), which must never be accepted. */
export function unsigned(c: Claims): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: c.sub, name: c.name, exp: now + 3600 })}.`;
}

export interface AsymmetricIssuer {
  alg: 'RS256' | 'ES256';
  /** PEM text of the public key (what the server is configured with). */
  publicPem: string;
  /** Path of a file holding publicPem. */
  publicFile: string;
  jwk: JWK;
  sign(c: Claims): Promise<string>;
}

export async function asymmetricIssuer(alg: 'RS256' | 'ES256', dir: string, kid = 'k1'): Promise<AsymmetricIssuer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicPem = await exportSPKI(publicKey);
  const publicFile = join(dir, `${alg}-${kid}.pem`);
  writeFileSync(publicFile, publicPem);
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, publicPem, publicFile, jwk, sign: (c) => build(c).setProtectedHeader({ alg, kid }).sign(privateKey) };
}
