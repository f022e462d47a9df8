import { RoomcastError } from './errors.js';

// String-based on purpose: mini programs have no URL class.

const BASE = /^(wss?|https?):\/\/([^/?#]+)([^?#]*)(\?[^#]*)?/i;

function parse(base: string): { secure: boolean; host: string; path: string; query: string } {
  const m = BASE.exec(base.trim());
  if (!m) {
    throw new RoomcastError('bad_request', `"${base}" is not a server URL; use ws://HOST:PORT/ws, wss://HOST/ws or https://HOST`);
  }
  const scheme = (m[1] as string).toLowerCase();
  const path = m[3] ?? '';
  return {
    secure: scheme === 'wss' || scheme === 'https',
    host: m[2] as string,
    // A bare host means the server's default endpoint.
    path: path === '' || path === '/' ? '/ws' : path,
    query: m[4] ?? '',
  };
}

/** The WebSocket URL with connection parameters: http(s) becomes ws(s), a bare host gets `/ws`. */
export function socketUrl(base: string, params: Record<string, string | undefined>): string {
  const u = parse(base);
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(params)) if (v) pairs.push(`${k}=${encodeURIComponent(v)}`);
  const query = [u.query.replace(/^\?/, ''), ...pairs].filter((s) => s !== '').join('&');
  return `${u.secure ? 'wss' : 'ws'}://${u.host}${u.path}${query ? `?${query}` : ''}`;
}

/** The HTTP origin of the same server, for file URLs. */
export function httpOrigin(base: string): string {
  const u = parse(base);
  return `${u.secure ? 'https' : 'http'}://${u.host}`;
}
