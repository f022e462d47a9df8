import { createServer, connect, type Server, type Socket } from 'node:net';

// A TCP proxy between a node and Redis or PostgreSQL, for partition tests. `cut()` makes the
// link go silent the way a network partition does: connections stay open, nothing is closed or
// reset, bytes stop flowing both ways (they are held, as TCP would keep retransmitting them) and
// new connections are accepted but get no answer. `heal()` lets everything held through, in
// order. `reset()` drops every connection at once (a partition TCP has noticed).

export interface TcpProxy {
  /** Port on 127.0.0.1 to give the node instead of the real server's. */
  port: number;
  /** `redis://127.0.0.1:PORT` style URL helper: the target URL with its port swapped. */
  url(targetUrl: string): string;
  cut(): void;
  heal(): void;
  reset(): void;
  /** Connections through the proxy now. */
  readonly connections: number;
  close(): Promise<void>;
}

interface Pipe {
  client: Socket;
  server: Socket;
  /** Bytes held during a cut, per direction, delivered on heal. */
  up: Buffer[];
  down: Buffer[];
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let silent = false;
  const pipes = new Set<Pipe>();
  const srv: Server = createServer((client) => {
    const server = connect(targetPort, targetHost);
    const pipe: Pipe = { client, server, up: [], down: [] };
    pipes.add(pipe);
    const end = () => {
      pipes.delete(pipe);
      client.destroy();
      server.destroy();
    };
    client.on('data', (d: Buffer) => (silent ? pipe.up.push(d) : server.write(d)));
    server.on('data', (d: Buffer) => (silent ? pipe.down.push(d) : client.write(d)));
    for (const s of [client, server]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  return {
    port,
    url(targetUrl: string) {
      const u = new URL(targetUrl);
      u.host = `127.0.0.1:${port}`;
      return u.toString();
    },
    cut() {
      silent = true;
    },
    heal() {
      silent = false;
      for (const p of pipes) {
        for (const d of p.up.splice(0)) p.server.write(d);
        for (const d of p.down.splice(0)) p.client.write(d);
      }
    },
    reset() {
      for (const p of [...pipes]) {
        p.client.resetAndDestroy();
        p.server.destroy();
      }
      pipes.clear();
    },
    get connections() {
      return pipes.size;
    },
    close() {
      for (const p of [...pipes]) {
        p.client.destroy();
        p.server.destroy();
      }
      pipes.clear();
      return new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}
