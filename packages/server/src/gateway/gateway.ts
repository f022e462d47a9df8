import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, MAX_BINARY_HEADER, SUBPROTOCOL } from '@roomcast/protocol';
import type { GuestTokens } from '../auth/guest.js';
import type { ChatService, Logger } from '../core/chat.js';
import { newSessionId } from '../core/ids.js';
import { resolveGuest, type Identity } from './identity.js';
import { WsConnection } from './ws-connection.js';

export interface GatewayOptions {
  /** URL path of the WebSocket endpoint. */
  path: string;
  maxConnPerIp: number;
  heartbeatMs: number;
  maxText: number;
  maxBinary: number;
}

/** Largest frame accepted: the bigger of a full binary message and a maximal text request. */
export function maxPayloadFor(o: { maxText: number; maxBinary: number }): number {
  return Math.max(o.maxBinary + MAX_BINARY_HEADER + 4, o.maxText * 4 + 16 * 1024);
}

/**
 * The WebSocket edge: upgrades, identity, per-address limits, heartbeat, frame hand-off to the
 * core. Everything about `ws` stays in this folder.
 */
export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<WsConnection>();
  private readonly perIp = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;
  private accepting = true;
  private lastPing = Date.now();

  constructor(
    private readonly chat: ChatService,
    private readonly guests: GuestTokens,
    private readonly opts: GatewayOptions,
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: maxPayloadFor(opts),
      handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    // Checking four times an interval ends a silent peer soon after its two intervals are up.
    this.heartbeat = setInterval(() => this.beat(), Math.max(10, Math.floor(opts.heartbeatMs / 4)));
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** The HTTP server's `upgrade` listener. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== this.opts.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!this.accepting) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.on('error', () => socket.destroy());
    void this.identify(url.searchParams).then(
      (identity) => {
        if (socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, socket, identity));
      },
      (err: unknown) => {
        this.log.error({ err }, 'upgrade failed');
        socket.destroy();
      },
    );
  };

  private async identify(params: URLSearchParams): Promise<Identity & { guestToken?: string }> {
    const identity = await resolveGuest(params, this.guests);
    if (!identity.ok) return identity;
    return { ...identity, guestToken: await this.guests.issue(identity.user) };
  }

  private accept(ws: WebSocket, req: IncomingMessage, socket: Duplex, identity: Identity & { guestToken?: string }): void {
    const ip = req.socket.remoteAddress ?? 'unknown';
    const count = (this.perIp.get(ip) ?? 0) + 1;
    this.perIp.set(ip, count);
    const conn = new WsConnection(newSessionId(), ws, socket, ip);
    this.conns.add(conn);
    ws.on('error', (err) => this.log.debug({ err, session: conn.id }, 'websocket error'));
    let onClose = (): void => {};
    ws.on('close', () => {
      this.conns.delete(conn);
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
      onClose();
    });
    if (!this.accepting) return conn.close(CloseCode.GoingAway, 'server shutting down; reconnect to resume');
    if (count > this.opts.maxConnPerIp) {
      return conn.close(CloseCode.TooManyConnections, `too many connections from your address (limit ${this.opts.maxConnPerIp})`);
    }
    if (!identity.ok) return conn.close(identity.code, identity.reason);
    const session = this.chat.open(conn, identity.user, identity.guestToken);
    ws.on('message', (data, isBinary) => {
      conn.lastSeen = Date.now();
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) this.chat.handleBinary(session, bytes);
      else this.chat.handleText(session, bytes);
    });
    ws.on('pong', () => {
      conn.lastSeen = Date.now();
    });
    onClose = () => void this.chat.close(session);
  }

  private beat(): void {
    const now = Date.now();
    const pingDue = now - this.lastPing >= this.opts.heartbeatMs;
    if (pingDue) this.lastPing = now;
    for (const c of this.conns) {
      if (now - c.lastSeen > 2 * this.opts.heartbeatMs) {
        this.log.debug({ session: c.id }, 'no answer to pings for two intervals; dropping');
        c.terminate();
      } else if (pingDue) {
        c.ping();
      }
    }
  }

  /** Stops accepting, closes every connection with 1001 and waits (briefly) for them to go. */
  async close(): Promise<void> {
    this.accepting = false;
    clearInterval(this.heartbeat);
    await this.chat.shutdown();
    const deadline = Date.now() + 3000;
    while (this.conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.conns) c.terminate();
    this.wss.close();
  }
}
