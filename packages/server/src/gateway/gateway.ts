import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCode, MAX_BINARY_HEADER, SUBPROTOCOL } from '@roomcast/protocol';
import type { Authenticated, Authenticator, UpgradeIdentity } from '../auth/authenticator.js';
import type { Core } from '../core/core.js';
import type { Logger } from '../core/logger.js';
import { newSessionId } from '../core/ids.js';
import { ConnectionGuard } from './connection-guard.js';
import { effectiveMaxConnections, webSocketLimit } from './fd-limit.js';
import { badRequest, checkHandshake, refuse } from './handshake.js';
import { clientAddress, originAllowed } from './origin.js';
import { PerAddress } from './per-address.js';
import { parseRequestTarget } from './request-target.js';
import { ThrottledLog } from './throttled-log.js';
import { closeHint, guestWarning, logLine, seedTokenHeader, type SeedHeader } from './token-header.js';
import { CoalescingWriter, FrameCache } from './frame-writer.js';
import { WsConnection, type FrameOutput } from './ws-connection.js';

export interface GatewayOptions {
  /** URL path of the WebSocket endpoint. */
  path: string;
  maxConnPerIp: number;
  /** Connections per address that have not authenticated yet (in-band `auth` pending). */
  maxUnauthPerIp: number;
  heartbeatMs: number;
  maxText: number;
  maxBinary: number;
  /** Time a connection without credentials has to send `{"op":"auth"}`. */
  authTimeoutMs: number;
  allowedOrigins: readonly string[];
  trustProxy: number;
  /** Time a new TCP connection has to send a whole request head, ms. */
  handshakeTimeoutMs: number;
  /** TCP connections per address without a whole request head yet (not applied behind proxies). */
  maxPendingPerIp: number;
  /** Open connections in all; 0: the file-descriptor limit minus a reserve (see fd-limit.ts). */
  maxConnections: number;
}

/** Seconds a client refused for capacity is asked to wait (503 Retry-After). */
const RETRY_AFTER_S = 5;

/** Largest frame accepted: the bigger of a full binary message and a maximal text request. */
export function maxPayloadFor(o: { maxText: number; maxBinary: number }): number {
  return Math.max(o.maxBinary + MAX_BINARY_HEADER + 4, o.maxText * 4 + 16 * 1024);
}

/** Frames a client may send after its `auth` frame while the token is being verified. */
const MAX_HELD_FRAMES = 64;

function toBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/**
 * The WebSocket edge: upgrades, origin check, authentication, per-address limits, heartbeat,
 * and hand-off of frames to the core. Everything about `ws` stays in this folder.
 */
export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<WsConnection>();
  private readonly perIp = new PerAddress();
  private readonly unauthPerIp = new PerAddress();
  private readonly heartbeat: NodeJS.Timeout;
  private accepting = true;
  private readonly out: FrameOutput = { frames: new FrameCache(), writer: new CoalescingWriter() };
  /** Upgrades past the checks and not yet accepted (authenticating): they count against the cap. */
  private upgrading = 0;
  /** Connections in all (TCP), as applied. */
  readonly maxConnections: number;
  /** Open WebSockets at which upgrades get 503: below maxConnections, so HTTP still answers. */
  readonly maxWebSockets: number;
  private readonly throttled: ThrottledLog;

  constructor(
    private readonly core: Pick<Core, 'sessions' | 'intake' | 'shutdown'>,
    private readonly auth: Authenticator,
    private readonly opts: GatewayOptions,
    private readonly log: Logger,
  ) {
    this.throttled = new ThrottledLog(log);
    this.maxConnections = effectiveMaxConnections(opts.maxConnections);
    this.maxWebSockets = webSocketLimit(this.maxConnections);
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

  /**
   * Bounds what happens before a request head is complete (timeout, per-address cap) and the
   * connections in all; call once on the HTTP server, before it listens.
   */
  guard(server: Server): ConnectionGuard {
    const trusted = this.opts.trustProxy > 0;
    return new ConnectionGuard(
      server,
      {
        handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
        // Behind proxies every client comes from the proxy's address: a cap per address would cap all.
        maxPendingPerIp: trusted ? 0 : this.opts.maxPendingPerIp,
        maxConnections: this.maxConnections,
      },
      this.throttled,
    );
  }

  /**
   * The HTTP server's `upgrade` listener. Nothing may escape it: an exception here would reach
   * the HTTP server's emit and end the process, so anything unexpected drops just this socket.
   */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node took its own error listener off the socket when it handed the upgrade over.
    socket.on('error', destroyOnError);
    try {
      this.upgrade(req, socket, head);
    } catch (err) {
      this.unexpected(err, socket);
    }
  };

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = parseRequestTarget(req.url);
    if (!target.ok) return refuse(socket, badRequest(target.reason));
    if (target.path !== this.opts.path) {
      return refuse(socket, { status: 404, code: 'not_found', message: `no WebSocket endpoint at ${JSON.stringify(target.path.slice(0, 60))}; connect to ${this.opts.path}` });
    }
    const bad = checkHandshake(req);
    if (bad) return refuse(socket, bad);
    if (!this.accepting) {
      return refuse(socket, { status: 503, code: 'unavailable', message: 'the server is shutting down; connect again shortly', headers: { 'Retry-After': String(RETRY_AFTER_S) } });
    }
    if (this.conns.size + this.upgrading >= this.maxWebSockets) {
      this.throttled.write('warn', 'max-websockets', { limit: this.maxWebSockets }, `refused a WebSocket with 503: ${this.maxWebSockets} are open (--max-connections ${this.maxConnections} less the HTTP reserve)`);
      return refuse(socket, { status: 503, code: 'unavailable', message: 'the server is at its connection limit; connect again shortly', headers: { 'Retry-After': String(RETRY_AFTER_S) } });
    }
    const ip = clientAddress(req, this.opts.trustProxy);
    const seedHeader = seedTokenHeader(req.headers, target.query);
    if (seedHeader) this.throttled.write('warn', `seed-token-header:${seedHeader}`, { ip, header: seedHeader, auth: this.auth.mode }, logLine(seedHeader, this.auth.mode));
    const identify: Promise<UpgradeIdentity> = originAllowed(req.headers.origin, req.headers.host, this.opts.allowedOrigins)
      ? this.auth.fromUpgrade(target.query, req.headers.authorization)
      : Promise.resolve({ kind: 'fail', code: CloseCode.Forbidden, reason: `origin ${String(req.headers.origin).slice(0, 80)} is not allowed to connect` });
    this.upgrading++;
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      this.upgrading--;
      socket.off('close', uncount);
    };
    socket.on('close', uncount);
    // Browsers hide a refused upgrade's HTTP status, so refusals are sent as close codes.
    identify
      .then((identity) => {
        uncount();
        // Gone meanwhile: nothing to do (a half-closed one, ws destroys without calling back).
        if (socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, ip, identity, seedHeader));
      })
      .catch((err: unknown) => {
        uncount();
        this.unexpected(err, socket);
      });
  }

  /** A failure nobody planned for during an upgrade: logged (not too often), the socket dropped. */
  private unexpected(err: unknown, socket: Duplex): void {
    this.throttled.write('error', 'upgrade-failed', { err }, 'a WebSocket upgrade failed unexpectedly; the connection was dropped');
    socket.destroy();
  }

  private accept(ws: WebSocket, socket: Duplex, ip: string, identity: UpgradeIdentity, seedHeader: SeedHeader | null): void {
    const count = this.perIp.add(ip);
    const conn = new WsConnection(newSessionId(), ws, socket, ip, this.out);
    this.conns.add(conn);
    ws.on('error', (err) => this.log.debug({ err, session: conn.id }, 'websocket error'));
    ws.on('close', () => {
      this.conns.delete(conn);
      this.perIp.remove(ip);
    });
    if (!this.accepting) return conn.close(CloseCode.GoingAway, 'server shutting down; reconnect to resume');
    if (count > this.opts.maxConnPerIp) {
      return conn.close(CloseCode.TooManyConnections, `too many connections from your address (limit ${this.opts.maxConnPerIp})`);
    }
    if (identity.kind === 'fail') return conn.close(identity.code, identity.reason);
    if (identity.kind === 'ok') {
      const warnings = seedHeader && identity.auth.user.guest ? [guestWarning(seedHeader, this.auth.acceptsTokens)] : [];
      return this.start(ws, conn, identity.auth, [], warnings);
    }
    this.awaitAuth(ws, conn, ip, seedHeader);
  }

  /** No credentials came with the upgrade: the first frame must be `{"op":"auth","token"}`. */
  private awaitAuth(ws: WebSocket, conn: WsConnection, ip: string, seedHeader: SeedHeader | null): void {
    if (this.unauthPerIp.add(ip) > this.opts.maxUnauthPerIp) {
      this.unauthPerIp.remove(ip);
      return conn.close(CloseCode.TooManyConnections, `too many unauthenticated connections from your address (limit ${this.opts.maxUnauthPerIp})`);
    }
    let pending = true;
    const done = () => {
      if (!pending) return;
      pending = false;
      clearTimeout(timer);
      this.unauthPerIp.remove(ip);
    };
    // A client that sent its token in a header it thinks we read is told which one to use.
    const hint = seedHeader ? closeHint(seedHeader) : '';
    const timer = setTimeout(() => {
      done();
      conn.close(CloseCode.AuthTimeout, `no {"op":"auth"} frame within ${this.opts.authTimeoutMs} ms${hint}`);
    }, this.opts.authTimeoutMs);
    ws.on('close', done);
    const held: Array<[Buffer, boolean]> = [];
    let verifying = false;
    const onMessage = (data: RawData, isBinary: boolean) => {
      conn.lastSeen = Date.now();
      if (verifying) {
        held.push([toBuffer(data), isBinary]);
        if (held.length > MAX_HELD_FRAMES) conn.close(CloseCode.Unauthorized, 'too many frames before authentication finished');
        return;
      }
      verifying = true;
      const frame = isBinary ? null : parseAuthFrame(toBuffer(data));
      if (!frame) {
        done();
        const first = 'the first frame must be {"op":"auth","token":"..."}';
        return conn.close(CloseCode.Unauthorized, hint ? first + hint : `authentication required: ${first}`);
      }
      this.auth.verifyToken(frame.token).then(
        (claims) => {
          done();
          if (!conn.isOpen) return;
          ws.off('message', onMessage);
          const auth = this.auth.fromClaims(claims);
          if (frame.ref !== undefined) {
            conn.send(Buffer.from(JSON.stringify({ op: 'reply', ref: frame.ref, ok: true, user: { id: auth.user.id, name: auth.user.name }, exp: auth.exp })), false);
          }
          this.start(ws, conn, auth, held);
        },
        (err: unknown) => {
          done();
          conn.close(CloseCode.Unauthorized, (err as Error).message);
        },
      );
    };
    ws.on('message', onMessage);
  }

  /** Authenticated: hand the connection to the core, with any frames that arrived meanwhile. */
  private start(ws: WebSocket, conn: WsConnection, auth: Authenticated, held: Array<[Buffer, boolean]>, warnings: readonly string[] = []): void {
    const session = this.core.sessions.open(conn, auth.user, { exp: auth.exp, rooms: auth.rooms }, auth.guestToken, warnings);
    const handle = (bytes: Buffer, isBinary: boolean) => {
      if (isBinary) this.core.intake.binary(session, bytes);
      else this.core.intake.text(session, bytes);
    };
    ws.on('message', (data, isBinary) => {
      conn.lastSeen = Date.now();
      handle(toBuffer(data), isBinary);
    });
    ws.on('pong', () => {
      conn.lastSeen = Date.now();
    });
    ws.on('close', () => void this.core.sessions.close(session));
    for (const [bytes, isBinary] of held) handle(bytes, isBinary);
  }

  /**
   * Pings only connections silent for an interval: one that sent anything lately is alive. Pinging
   * every connection at once used to stall delivery (thousands of writes, then as many pongs) once
   * an interval; silences start at different times, so the pings are spread out.
   */
  private beat(): void {
    const now = Date.now();
    const interval = this.opts.heartbeatMs;
    for (const c of this.conns) {
      const silent = now - c.lastSeen;
      if (silent > 2 * interval) {
        this.log.debug({ session: c.id }, 'no answer to pings for two intervals; dropping');
        c.terminate();
      } else if (silent >= interval && now - c.lastPingAt >= interval) {
        c.lastPingAt = now;
        c.ping();
      }
    }
  }

  /** Stops accepting, closes every connection with 1001 and waits (briefly) for them to go. */
  async close(): Promise<void> {
    this.accepting = false;
    clearInterval(this.heartbeat);
    for (const c of this.conns) c.close(CloseCode.GoingAway, 'server shutting down; reconnect to resume');
    await this.core.shutdown();
    const deadline = Date.now() + 3000;
    while (this.conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.conns) c.terminate();
    this.wss.close();
  }
}

/**
 * A listener for the socket's whole life, so not a closure: closures made in handleUpgrade share
 * one context, and a long-lived one would keep the upgrade request and its headers alive.
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

function parseAuthFrame(data: Buffer): { token: string; ref?: string | number } | null {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { op?: unknown; token?: unknown; ref?: unknown };
  if (v.op !== 'auth' || typeof v.token !== 'string' || v.token.length === 0 || v.token.length > 8192) return null;
  const ref = typeof v.ref === 'string' || (typeof v.ref === 'number' && Number.isInteger(v.ref)) ? v.ref : undefined;
  return ref === undefined ? { token: v.token } : { token: v.token, ref };
}
