import { SignJWT } from 'jose';

export interface MintOptions {
  secret: string;
  sub: string;
  name?: string | undefined;
  rooms?: string[] | undefined;
  admin?: boolean | undefined;
  /** Lifetime in seconds. */
  ttlSec: number;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** Mints an HS256 token the server accepts (`roomcast token`, for development and tests). */
export function mintToken(o: MintOptions): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (o.name) claims.name = o.name;
  if (o.rooms && o.rooms.length > 0) claims.rooms = o.rooms;
  if (o.admin) claims.admin = true;
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(o.sub).setIssuedAt().setExpirationTime(`${o.ttlSec}s`);
  if (o.issuer) jwt = jwt.setIssuer(o.issuer);
  if (o.audience) jwt = jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}

/** Parses a lifetime: `90` or `90s`, `15m`, `1h`, `7d`. */
export function parseTtl(raw: string): number | null {
  const m = /^(\d+)([smhd]?)$/.exec(raw.trim());
  if (!m) return null;
  const n = Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return n > 0 ? n : null;
}
