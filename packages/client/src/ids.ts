// Client message ids: the server remembers (user, id) and answers a repeated send with the first
// result, so an id must be unique per user and reused for every retry of the same message.

interface CryptoLike {
  getRandomValues(array: Uint8Array): Uint8Array;
}

let counter = 0;

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  const crypto = (globalThis as { crypto?: CryptoLike }).crypto;
  if (crypto && typeof crypto.getRandomValues === 'function') {
    crypto.getRandomValues(bytes);
  } else {
    // Mini programs may lack Web Crypto; the time prefix and counter keep ids apart anyway.
    for (let i = 0; i < n; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  return bytes;
}

/** A new client message id like `c-lx2k9q0-3f9a0c…` (well under the protocol's 64 characters). */
export function newClientId(): string {
  let hex = '';
  for (const b of randomBytes(12)) hex += b.toString(16).padStart(2, '0');
  counter = (counter + 1) % 1_679_616;
  return `c-${Date.now().toString(36)}-${hex}${counter.toString(36)}`;
}
