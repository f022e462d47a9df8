import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, TestClient, type TestServer } from './helpers.js';
import { hs256 } from './tokens.js';

// Shared by the server API's tests: keys of each scope (one given as a hash in the file), a
// caller that records which documented routes were served, and users on sockets.

export const ADMIN_KEY = 'server-api-admin-key-0123456789';
export const READ_KEY = 'server-api-read-key-0123456789';
export const PUBLISH_KEY = 'server-api-publish-key-0123456789';
/** Only its SHA-256 is in the file. */
export const HASHED_KEY = 'server-api-hashed-key-0123456789';

/** Writes a keys file with a key of each scope; HASHED_KEY (admin) as sha256:HEX. */
export function keysFile(): string {
  const file = join(tempDir('roomcast-keys-'), 'keys.json');
  const hex = createHash('sha256').update(HASHED_KEY).digest('hex');
  writeFileSync(
    file,
    JSON.stringify([
      { name: 'reader', key: READ_KEY, scope: 'read' },
      { name: 'publisher', key: PUBLISH_KEY, scope: 'publish' },
      { name: 'ops', key: `sha256:${hex}`, scope: 'admin' },
    ]),
  );
  return file;
}

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** Every `METHOD /path` served by a route (not a "no route" 404), for the coverage test. */
export const served = new Set<string>();

export interface CallInit {
  method?: string;
  body?: unknown;
  key?: string | null;
  headers?: Record<string, string>;
}

export function caller(server: TestServer, defaultKey = ADMIN_KEY) {
  return async (path: string, init: CallInit = {}): Promise<Answer> => {
    const method = init.method ?? 'GET';
    const key = init.key === undefined ? defaultKey : init.key;
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
    });
    const text = await res.text();
    const body = text ? JSON.parse(text) : null;
    const noRoute = res.status === 404 && typeof body?.error?.message === 'string' && body.error.message.startsWith('no route');
    if (!noRoute) served.add(`${method} ${new URL(path, server.url).pathname}`);
    return { status: res.status, body, headers: res.headers };
  };
}

/** The documented (method, path) pairs that no recorded call matched. */
export function unexercised(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  const calls = [...served];
  const missing: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    const re = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const method of Object.keys(ops)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const m = method.toUpperCase();
      if (!calls.some((c) => c.startsWith(`${m} `) && re.test(c.slice(m.length + 1)))) missing.push(`${m} ${path}`);
    }
  }
  return missing;
}

/** A signed-in user on a socket. */
export const asUser = async (server: TestServer, sub: string, name = `Name of ${sub}`) => TestClient.connect(server.wsUrl, { token: await hs256({ sub, name }) });
