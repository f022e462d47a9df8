import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** An upgrade the gateway answers with an HTTP error instead of a WebSocket. */
export interface Refusal {
  status: number;
  /** The error code of the body, as on the HTTP endpoints (`bad_request`, `unavailable`…). */
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/** RFC 6455 §4.1: the base64 of 16 bytes. */
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * Checks the parts of an upgrade request that `ws` would otherwise check only after the
 * (possibly costly) authentication: method, version, Host, Upgrade, Connection, key, version.
 */
export function checkHandshake(req: IncomingMessage): Refusal | null {
  if (req.method !== 'GET') {
    return { status: 405, code: 'bad_request', message: `a WebSocket upgrade must be a GET, not ${clip(req.method ?? '')}`, headers: { Allow: 'GET' } };
  }
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) return badRequest('a WebSocket upgrade needs HTTP/1.1');
  const h = req.headers;
  if (!h.host) return badRequest('the upgrade has no Host header');
  if (h.upgrade?.toLowerCase() !== 'websocket') return badRequest('the Upgrade header must be "websocket"');
  if (!tokens(h.connection).includes('upgrade')) return badRequest('the Connection header must include "Upgrade"');
  if (typeof h['sec-websocket-key'] !== 'string' || !KEY.test(h['sec-websocket-key'])) {
    return badRequest('the Sec-WebSocket-Key header must be the base64 of 16 random bytes');
  }
  if (h['sec-websocket-version'] !== '13') {
    return { ...badRequest('this server speaks WebSocket version 13 (RFC 6455) only'), headers: { 'Sec-WebSocket-Version': '13' } };
  }
  return null;
}

export function badRequest(message: string): Refusal {
  return { status: 400, code: 'bad_request', message };
}

/**
 * Answers an upgrade with an HTTP error and closes the connection once the answer is written.
 * After `upgrade` the socket is ours alone: Node's server no longer times it out, and it is
 * half-open, so `end()` alone would leave it open for as long as the peer likes.
 */
export function refuse(socket: Duplex, r: Refusal): void {
  if (socket.destroyed || socket.writableEnded) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: r.code, message: r.message } });
  const headers: Record<string, string | number> = {
    Connection: 'close',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...r.headers,
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${r.status} ${REASONS[r.status] ?? 'Error'}\r\n${lines.join('\r\n')}\r\n\r\n${body}`);
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  503: 'Service Unavailable',
};

function tokens(header: string | undefined): string[] {
  return (header ?? '').toLowerCase().split(',').map((t) => t.trim());
}

function clip(s: string): string {
  return JSON.stringify(s.slice(0, 20));
}
