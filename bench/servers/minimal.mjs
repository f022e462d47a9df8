// Baseline 3: a minimal `ws` chat server done right for fan-out: rooms are a Map of Sets, each
// event is serialized and framed once, and the same frame bytes are written to every member's
// socket (one write per member, no per-recipient JSON or framing). Same wire protocol as the
// tutorial server.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { announce, options } from './common.mjs';

const { port, host } = options();
const server = createServer((_req, res) => res.end('minimal chat\n'));
const wss = new WebSocketServer({ server, clientTracking: false, perMessageDeflate: false });
/** @type {Map<string, Set<import('ws').WebSocket>>} */
const rooms = new Map();

/** An unmasked server text frame around `payload`. */
function frame(payload) {
  const len = payload.length;
  const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(hdr + len);
  out[0] = 0x81;
  if (hdr === 2) out[1] = len;
  else if (hdr === 4) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  payload.copy(out, hdr);
  return out;
}

wss.on('connection', (ws, req) => {
  const name = new URL(req.url ?? '/', 'http://localhost').searchParams.get('name') ?? 'anonymous';
  /** @type {Set<string>} */
  const mine = new Set();
  ws.on('message', (data) => {
    let msg;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (msg.type === 'join' && typeof msg.room === 'string') {
      let members = rooms.get(msg.room);
      if (!members) rooms.set(msg.room, (members = new Set()));
      members.add(ws);
      mine.add(msg.room);
      ws.send(JSON.stringify({ type: 'joined', room: msg.room }));
    } else if (msg.type === 'msg') {
      const members = rooms.get(msg.room);
      if (!members || !mine.has(msg.room)) return;
      const bytes = frame(Buffer.from(JSON.stringify({ type: 'msg', room: msg.room, from: name, text: msg.text, ts: Date.now() })));
      for (const m of members) {
        // @ts-ignore `_socket` is ws's net.Socket: the pre-built frame goes straight to it
        if (m !== ws) m._socket.write(bytes);
      }
    }
  });
  ws.on('close', () => {
    for (const r of mine) {
      const members = rooms.get(r);
      members?.delete(ws);
      if (members && members.size === 0) rooms.delete(r);
    }
  });
});

server.listen(port, host, () => announce(server, host));
