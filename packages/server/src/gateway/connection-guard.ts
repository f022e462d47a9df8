import type { Server } from 'node:http';
import { Socket } from 'node:net';
import { PerAddress } from './per-address.js';
import type { ThrottledLog } from './throttled-log.js';

export interface ConnectionGuardOptions {
  /** Time a new TCP connection has to deliver a whole request head, ms. */
  handshakeTimeoutMs: number;
  /** Connections per address still without a whole request head; 0: no cap. */
  maxPendingPerIp: number;
  /** Open TCP connections in all (Node's `server.maxConnections`). */
  maxConnections: number;
}

interface Pending {
  ip: string | null;
  timer: NodeJS.Timeout;
}

/**
 * Bounds the TCP connections that have not sent a request head yet: each has handshakeTimeoutMs
 * to send one, and one address may hold only maxPendingPerIp of them. Node's own headersTimeout
 * is too coarse for this: it is checked every connectionsCheckingInterval (30 s, fixed when the
 * server is made), so with its 60 s default a silent or trickling socket lived 60-90 s (measured
 * on Node 20.20); and Node has no per-address cap at all.
 */
export class ConnectionGuard {
  private readonly pending = new WeakMap<Socket, Pending>();
  private readonly perIp = new PerAddress();
  /** One listener for every socket, so that headComplete can take it off again by reference. */
  private readonly onClose: (this: Socket) => void;

  constructor(
    server: Server,
    private readonly opts: ConnectionGuardOptions,
    private readonly log: ThrottledLog,
  ) {
    const guard = this;
    this.onClose = function (this: Socket) {
      guard.release(this);
    };
    // Node refuses connections beyond this itself (closes them on accept, emits 'drop').
    server.maxConnections = opts.maxConnections;
    // Keep-alive connections send later heads after our timer is gone; Node's own check bounds those.
    server.headersTimeout = Math.min(server.headersTimeout, opts.handshakeTimeoutMs);
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req: { socket: Socket }) => this.headComplete(req.socket));
    server.on('upgrade', (req: { socket: Socket }) => this.headComplete(req.socket));
    server.on('drop', (d?: { remoteAddress?: string }) => {
      this.log.write('warn', 'max-connections', { ip: d?.remoteAddress, limit: opts.maxConnections }, `refused a TCP connection: ${opts.maxConnections} are open (--max-connections)`);
    });
  }

  private admit(socket: Socket): void {
    const ip = this.opts.maxPendingPerIp > 0 ? (socket.remoteAddress ?? 'unknown') : null;
    if (ip !== null) {
      if (this.perIp.add(ip) > this.opts.maxPendingPerIp) {
        this.perIp.remove(ip);
        this.log.write('warn', 'max-pending', { ip, limit: this.opts.maxPendingPerIp }, `dropped a connection: ${this.opts.maxPendingPerIp} from this address have not sent a request yet (--max-pending-per-ip)`);
        socket.destroy();
        return;
      }
    }
    const timer = setTimeout(() => this.expire(socket), this.opts.handshakeTimeoutMs);
    timer.unref();
    this.pending.set(socket, { ip, timer });
    socket.once('close', this.onClose);
  }

  /** A request or upgrade arrived on the socket (a TLS socket stands for its TCP socket). */
  private headComplete(socket: Socket): void {
    const raw = rawSocket(socket);
    if (this.release(raw)) raw.off('close', this.onClose);
  }

  private release(socket: Socket): boolean {
    const p = this.pending.get(socket);
    if (!p) return false;
    this.pending.delete(socket);
    clearTimeout(p.timer);
    if (p.ip !== null) this.perIp.remove(p.ip);
    return true;
  }

  private expire(socket: Socket): void {
    if (!this.release(socket)) return;
    socket.off('close', this.onClose);
    this.log.write('info', 'handshake-timeout', { ip: socket.remoteAddress, timeoutMs: this.opts.handshakeTimeoutMs }, `dropped a connection that sent no whole request within ${this.opts.handshakeTimeoutMs} ms (--handshake-timeout)`);
    socket.destroy();
  }
}

/** A TLS socket's TCP socket (`_parent`, set by Node's TLS server); a TCP socket itself. */
function rawSocket(socket: Socket): Socket {
  const parent = (socket as Socket & { _parent?: unknown })._parent;
  return parent instanceof Socket ? parent : socket;
}
