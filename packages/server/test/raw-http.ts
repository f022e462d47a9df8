import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

// Raw TCP for hostile input: what the server answers and when it closes the connection. The
// client reads everything (a socket that does not read never sees the server's FIN) and never
// closes its own side first, so "closed" always means the server closed it.

export interface RawSocket {
  socket: Socket;
  /** Everything received so far. */
  readonly received: () => string;
  /** Resolves when the connection is closed, with the time since it was opened (ms). */
  closed: Promise<{ afterMs: number; received: string }>;
  /** Resolves once it is connected. */
  connected: Promise<void>;
}

export interface RawOptions {
  /** A loopback address to connect from (Linux routes all of 127/8 to lo). */
  from?: string;
  host?: string;
}

export function openRaw(port: number, opts: RawOptions = {}): RawSocket {
  const started = Date.now();
  const socket = connect({ port, host: opts.host ?? '127.0.0.1', ...(opts.from ? { localAddress: opts.from } : {}) });
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  const received = () => Buffer.concat(chunks).toString('latin1');
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) => {
    socket.on('close', () => resolve({ afterMs: Date.now() - started, received: received() }));
  });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => reject(new Error('closed before it connected')));
  });
  connected.catch(() => {});
  return { socket, received, closed, connected };
}

/** Sends `bytes` on a fresh connection and resolves with everything received once the server closes it. */
export async function exchange(port: number, bytes: string | Buffer, opts: RawOptions = {}): Promise<string> {
  const raw = openRaw(port, opts);
  raw.socket.write(bytes);
  return (await raw.closed).received;
}

export const GOOD_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** An upgrade request head; `headers` replace or (as `null`) remove the usual ones. */
export function upgradeHead(target: string, headers: Record<string, string | null> = {}, method = 'GET'): string {
  const base: Record<string, string | null> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': GOOD_KEY,
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = Object.entries(base).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** The status code and headers (lower-cased names) of a raw HTTP response. */
export function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = end >= 0 ? raw.slice(0, end) : raw;
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: end >= 0 ? raw.slice(end + 4) : '' };
}

/** GET over a connection of its own, closed after the answer (so it holds no slot afterwards). */
export function httpGet(url: string, opts: { from?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' }, ...(opts.from ? { localAddress: opts.from } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
