import net from 'node:net';

// A TCP proxy on 127.0.0.1 between one client and the server, for fault injection: it can cut
// every connection, stall them (nothing forwarded either way: a dead path that reports nothing),
// choke them (the server's data is not read: the server sees a slow consumer), and follow the
// server to a new port after a restart, so the client never learns that the port changed.

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export class ChaosProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<Pair>();
  /** Pairs taken out of service by stall/choke; destroyed by `release`. */
  private readonly frozen = new Set<Pair>();
  /** Connections accepted since start. */
  accepted = 0;

  constructor(private targetPort: number) {}

  async start(): Promise<number> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }

  get port(): number {
    return (this.server?.address() as net.AddressInfo).port;
  }

  /** The server moved (restart): new connections go there. */
  retarget(port: number): void {
    this.targetPort = port;
  }

  /** Stalled or choked connections. */
  get frozenCount(): number {
    return this.frozen.size;
  }

  /** Live (not frozen) connections. */
  get open(): number {
    return this.pairs.size;
  }

  /** Cuts every connection at once (the client sees an abnormal close, 1006). */
  drop(): void {
    for (const p of [...this.pairs]) this.destroy(p);
  }

  /** Stops forwarding in both directions: the client only notices by its heartbeat. */
  stall(): void {
    for (const p of [...this.pairs]) {
      p.client.pause();
      p.upstream.pause();
      this.pairs.delete(p);
      this.frozen.add(p);
    }
  }

  /**
   * Stops reading what the server sends while still passing on what the client sends: the
   * server's send buffer fills and it closes the connection as a slow consumer (1013).
   */
  choke(): void {
    for (const p of [...this.pairs]) {
      p.upstream.pause();
      this.pairs.delete(p);
      this.frozen.add(p);
    }
  }

  /**
   * Ends stalled/choked connections: `deliver` first lets everything the server had queued reach
   * the client (a choked one then learns of its 1013), else they are simply cut.
   */
  release(deliver = false): void {
    for (const p of [...this.frozen]) {
      this.frozen.delete(p);
      if (deliver) {
        this.pairs.add(p);
        p.client.resume();
        p.upstream.resume();
      } else {
        p.client.destroy();
        p.upstream.destroy();
      }
    }
  }

  async close(): Promise<void> {
    this.drop();
    this.release();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    client.setNoDelay(true);
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    // Manual forwarding (not pipe) so pausing one side never pauses the other by backpressure.
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (!to.destroyed) to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const end = () => this.destroy(pair);
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
      s.on('end', end);
    }
  }

  private destroy(p: Pair): void {
    this.pairs.delete(p);
    this.frozen.delete(p);
    p.client.destroy();
    p.upstream.destroy();
  }
}
