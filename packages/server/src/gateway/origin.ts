import type { IncomingMessage } from 'node:http';

/**
 * Cross-site WebSocket hijacking guard. A browser always sends `Origin`; other clients usually
 * send none and are allowed. With no list, only the page's own origin (same host) may connect.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  if (allowed.length > 0) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * The client's address. Behind `trustProxy` proxies, each appends the address it saw to
 * X-Forwarded-For, so the client is that many entries from the right; anything further left
 * was written by the client and is not trusted.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustProxy <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (!raw) return peer;
  const hops = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (hops.length === 0) return peer;
  return hops[Math.max(0, hops.length - trustProxy)] as string;
}
