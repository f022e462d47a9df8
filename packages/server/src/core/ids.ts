import { createHash, randomFillSync } from 'node:crypto';
import { DIRECT_PREFIX } from '@roomcast/protocol';

// Ids people share (room ids) must be unguessable: they come from the CSPRNG, never Math.random.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

// Every message gets an id: drawing CSPRNG bytes 4 KiB at a time instead of per id saves a
// native call per message. Each byte is used once.
const pool = Buffer.alloc(4096);
let poolUsed = pool.length;

/** `n` random base32 characters (5 bits each). */
export function randomId(n: number): string {
  if (n > pool.length) throw new RangeError(`randomId: at most ${pool.length} characters`);
  if (poolUsed + n > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[(pool[poolUsed + i] as number) & 31];
  poolUsed += n;
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
  return `${DIRECT_PREFIX}${createHash('sha256').update(`${x}\n${y}`).digest('hex').slice(0, 32)}`;
}

export { DIRECT_PREFIX };
