// An Express app with roomcast mounted at /chat on the same port (library mode).
//   npm install && npm run build     (once, at the repo root)
//   node examples/express-chat/server.mjs
// Environment: PORT (default 3000; 0 picks a free one), HOST (default 127.0.0.1), DATA_DIR.
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createRoomcast } from '@roomcast/server';

const here = dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
// Rooms whose id starts with "staff-" are for these names only (the authorize hook).
const STAFF = new Set(['alice', 'admin']);

const app = express();
app.get('/', (_req, res) => res.sendFile(join(here, 'index.html')));
app.get('/api/hello', (_req, res) => res.json({ hello: 'from express', chat: '/chat/ws' }));

const server = createServer(app);
const roomcast = await createRoomcast({
  server,
  path: '/chat',
  dataDir: process.env.DATA_DIR ?? join(here, '.data'),
  logLevel: process.env.LOG_LEVEL ?? 'warn',
  hooks: {
    // Your rules on who may do what: false refuses with `forbidden`.
    authorize: (user, room, action) => !room.startsWith('staff-') || user.admin || STAFF.has(user.name.toLowerCase()),
    // Runs before a message (or an edit) is stored: allow, reject with a reason, or replace the text.
    beforeMessage: ({ text }) => {
      if (/https?:\/\//i.test(text)) return { action: 'reject', reason: 'links are not allowed in this chat' };
      if (/\bdarn\b/i.test(text)) return { action: 'replace', text: text.replace(/\bdarn\b/gi, 'd**n') };
      return { action: 'allow' };
    },
    // Every event, durably and retried until this returns: index it, send a push, audit it.
    onEvent: (event) => {
      console.log(`event ${event.type} ${JSON.stringify(event.data)}`);
    },
  },
});

server.listen(port, host, () => {
  const { port: bound } = server.address();
  console.log(`listening on http://${host}:${bound}`);
});

// Ctrl-C / SIGTERM: stop roomcast (clients get 1001 and reconnect later), then the app.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await roomcast.close();
    server.close(() => process.exit(0));
  });
}
