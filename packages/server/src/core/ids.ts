import { createHash, randomBytes } from 'node:crypto';

// Ids people share (room ids) must be unguessable: they come from the CSPRNG, never Math.random.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/** `n` random base32 characters (5 bits each). */
export function randomId(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[(bytes[i] as number) & 31];
  return out;
}

/** A server-made room id: 12 characters, 60 random bits. */
export const newRoomId = (): string => `r-${randomId(12)}`;
export const newUserId = (): string => `u_${randomId(16)}`;
export const newSessionId = (): string => `s_${randomId(16)}`;
export const newMessageId = (): string => `m_${randomId(16)}`;

/** Direct conversations are rooms of two whose id is derived from the pair, whatever the order. */
export function directRoomId(a: string, b: string): string {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `dm-${createHash('sha256').update(`${x}\n${y}`).digest('hex').slice(0, 32)}`;
}

export const DIRECT_PREFIX = 'dm-';
