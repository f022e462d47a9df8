// Baseline 2: Socket.IO 4 with rooms, websocket transport only (no long-polling), the way its
// chat examples broadcast: socket.to(room).emit(...). With --recovery it turns on Socket.IO's
// connection state recovery (missed packets kept in memory for 2 minutes), used by the
// catch-up scenario.
//   client → 42N["join","r1"]         ← 43N[true]
//   client → 42["msg","r1","text"]    → others in r1: 42["msg",{"room","from","text","ts"}]
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { announce, options } from './common.mjs';

const { port, host, recovery } = options();
const server = createServer();
const io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  ...(recovery ? { connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true } } : {}),
});

io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    socket.join(String(room));
    if (typeof ack === 'function') ack(true);
  });
  socket.on('msg', (room, text) => {
    socket.to(String(room)).emit('msg', { room, from: socket.id, text, ts: Date.now() });
  });
});

server.listen(port, host, () => announce(server, host));
