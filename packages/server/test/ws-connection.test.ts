import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CoalescingWriter, FrameCache } from '../src/gateway/frame-writer.js';
import { WsConnection } from '../src/gateway/ws-connection.js';

// WsConnection queues frames until the end of the job; these check, over a real loopback socket,
// that the queue never reorders them around the close handshake.

interface Pair {
  conn: WsConnection;
  /** The server side's ws, under conn. */
  ws: WebSocket;
  /** Opcodes of the frames the server wrote to the socket, in order. */
  sent: number[];
  client: WebSocket;
  received: string[];
  closed: Promise<[number, string]>;
}

let server: Server | undefined;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  if (server) await new Promise((r) => server?.close(r));
  server = undefined;
});

async function pair(): Promise<Pair> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const out = { frames: new FrameCache(), writer: new CoalescingWriter() };
  const sent: number[] = [];
  const accepted = new Promise<[WsConnection, WebSocket]>((resolve) => {
    server = createServer();
    server.on('upgrade', (req, socket: Duplex, head) => {
      const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
      // Every write here is whole frames or a frame header (ws writes header and payload apart).
      socket.write = ((chunk: Buffer) => {
        if (chunk.length >= 2 && (chunk[0] as number) & 0x80) sent.push((chunk[0] as number) & 0x0f);
        return write(chunk);
      }) as typeof socket.write;
      wss.handleUpgrade(req, socket, head, (ws) => resolve([new WsConnection('c1', ws, socket, '127.0.0.1', out), ws]));
    });
  });
  server?.listen(0, '127.0.0.1');
  await once(server as Server, 'listening');
  const port = (server?.address() as AddressInfo).port;
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  clients.push(client);
  const received: string[] = [];
  client.on('message', (d) => received.push(String(d)));
  const closed = new Promise<[number, string]>((resolve) => client.on('close', (code, reason) => resolve([code, String(reason)])));
  await once(client, 'open');
  const [conn, ws] = await accepted;
  sent.length = 0; // the upgrade response
  return { conn, ws, sent, client, received, closed };
}

const text = (s: string) => new TextEncoder().encode(s);

describe('WsConnection', () => {
  it('sends what was queued in a job before its own close frame', async () => {
    const { conn, sent, received, closed } = await pair();
    conn.send(text('one'), false);
    conn.send(text('two'), false);
    conn.close(4000, 'bye');
    expect(await closed).toEqual([4000, 'bye']);
    expect(received).toEqual(['one', 'two']);
    expect(sent).toEqual([1, 1, 8]);
  });

  it('counts queued frames in bufferedAmount until they are written', async () => {
    const { conn, client, received } = await pair();
    conn.send(text('12345'), false);
    expect(conn.bufferedAmount).toBe(7); // 2-byte header + payload, still queued
    await conn.drained();
    expect(conn.bufferedAmount).toBe(0);
    await new Promise<void>((resolve) => client.once('message', () => resolve()));
    expect(received).toEqual(['12345']);
  });

  it('drops what was queued when ws sent a close frame later in the same job', async () => {
    const { conn, ws, sent, received, closed } = await pair();
    conn.send(text('late'), false);
    // What ws does when it reads the peer's close frame: answers it at once, inside the job.
    ws.close(1000, 'peer closed');
    expect(await closed).toEqual([1000, 'peer closed']);
    expect(received).toEqual([]);
    expect(sent).toEqual([8]); // the close frame, and no text frame after it
    expect(conn.bufferedAmount).toBe(0);
  });
});
