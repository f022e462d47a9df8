import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

// The server API's keys: --api-key (scope admin, named "api-key") and the scoped keys of
// --api-keys FILE, a JSON array of {name, key, scope}. A key may be written as "sha256:HEX" (the
// lowercase hex SHA-256 of the key), so the file need not hold the secret itself.

export type Scope = 'read' | 'publish' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'publish', 'admin'];

/** What each scope allows, for error messages and docs. */
export const SCOPE_HELP: Record<Scope, string> = {
  read: 'GET requests only',
  publish: 'posting messages, and GET requests',
  admin: 'every request',
};

/** A key as the guard knows it: its name (logs, idempotency) and scope; the secret only as a digest. */
export interface ApiKey {
  name: string;
  scope: Scope;
  digest: Buffer;
}

export class ApiKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiKeyError';
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Whether `held` may do what `need` asks: admin ⊃ publish ⊃ read. */
export function allows(held: Scope, need: Scope): boolean {
  return SCOPES.indexOf(held) >= SCOPES.indexOf(need);
}

export class ApiKeys {
  constructor(readonly keys: readonly ApiKey[]) {}

  get size(): number {
    return this.keys.length;
  }

  /**
   * The key `given` is, compared in constant time: digests of equal length, and every key is
   * compared (no early exit that would tell how far down the list a key is).
   */
  match(given: string): ApiKey | null {
    const d = sha256(given);
    let found: ApiKey | null = null;
    for (const k of this.keys) if (timingSafeEqual(d, k.digest) && !found) found = k;
    return found;
  }
}

/** Parses the keys file's text (JSON). Throws ApiKeyError with what to fix. */
export function parseApiKeys(text: string, source: string): ApiKey[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiKeyError(`${source} is not JSON (${(err as Error).message}); write an array like [{"name":"backend","key":"…","scope":"admin"}]`);
  }
  if (!Array.isArray(value)) throw new ApiKeyError(`${source} must hold a JSON array of {"name","key","scope"} objects`);
  const names = new Set<string>();
  return value.map((entry: unknown, i) => {
    const at = `${source}, entry ${i + 1}`;
    if (typeof entry !== 'object' || entry === null) throw new ApiKeyError(`${at}: must be an object {"name","key","scope"}`);
    const { name, key, scope } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
      throw new ApiKeyError(`${at}: "name" must be 1-64 letters, digits, "_", "." or "-" (it names the key in logs)`);
    }
    if (names.has(name)) throw new ApiKeyError(`${at}: the name "${name}" is used twice; give each key its own name`);
    names.add(name);
    if (typeof scope !== 'string' || !SCOPES.includes(scope as Scope)) throw new ApiKeyError(`${at} ("${name}"): "scope" must be "read", "publish" or "admin"`);
    if (typeof key !== 'string') throw new ApiKeyError(`${at} ("${name}"): "key" must be a string: the key, or "sha256:" and its SHA-256 in hex`);
    return { name, scope: scope as Scope, digest: digestOf(key, `${at} ("${name}")`) };
  });
}

function digestOf(key: string, at: string): Buffer {
  if (key.startsWith('sha256:')) {
    const hex = key.slice(7);
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new ApiKeyError(`${at}: "sha256:" must be followed by 64 hex digits (printf %s KEY | sha256sum)`);
    return Buffer.from(hex, 'hex');
  }
  if (key.length < 16) throw new ApiKeyError(`${at}: "key" must be at least 16 characters`);
  return sha256(key);
}

/** --api-key and --api-keys FILE as one list; --api-key is the admin key named "api-key". */
export function loadApiKeys(apiKey: string, file: string): ApiKeys {
  const keys: ApiKey[] = apiKey ? [{ name: 'api-key', scope: 'admin', digest: sha256(apiKey) }] : [];
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ApiKeyError(`cannot read --api-keys ${file}: ${(err as Error).message}`);
    }
    const more = parseApiKeys(text, `--api-keys ${file}`);
    if (apiKey && more.some((k) => k.name === 'api-key')) throw new ApiKeyError(`--api-keys ${file}: the name "api-key" is taken by --api-key; rename that entry`);
    keys.push(...more);
  }
  return new ApiKeys(keys);
}
