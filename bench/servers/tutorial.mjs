// Baseline 1: the chat room every "WebSocket chat on Node" tutorial builds with `ws`. Each
// message is parsed, then the server loops over every connected client, checks its room, and
// serializes the event again for each recipient.
//   client → {"type":"join","room":"r1"}            ← {"type":"joined","room":"r1"}
//   client → {"type":"msg","room":"r1","text":"…"}  → others in r1: {"type":"msg","room","from","text","ts"}
import { createServer } from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import { announce, options } from './common.mjs';

const { port, host } = options();
const server = createServer((_req, res) => res.end('tutorial chat\n'));
const wss = new WebSocketServer({ server });

wss.on('connection', (ws, req) => {
  const name = new URL(req.url ?? '/', 'http://localhost').searchParams.get('name') ?? 'anonymous';
  /** @type {string | null} */
  let room = null;
  ws.on('message', (data) => {
    let msg;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (msg.type === 'join') {
      room = msg.room;
      // @ts-ignore the tutorial hangs the room on the socket
      ws.room = room;
      ws.send(JSON.stringify({ type: 'joined', room }));
    } else if (msg.type === 'msg') {
      wss.clients.forEach((client) => {
        // @ts-ignore
        if (client !== ws && client.room === msg.room && client.readyState === WebSocket.OPEN) {
          client.send(JSON.stringify({ type: 'msg', room: msg.room, from: name, text: msg.text, ts: Date.now() }));
        }
      });
    }
  });
});

server.listen(port, host, () => announce(server, host));
