import WebSocket from 'ws';
import { RoomcastClient } from '../src/client.js';
import type { ClientEvents, ConnectionState } from '../src/types.js';
import type { ClientOptions } from '../src/options.js';
import type { Message } from '../src/messages.js';
import type { Room } from '../src/room.js';
import { WAIT_MS, waitUntil } from '../../../test/wait.js';

export { removeDir, serverPerSuite, startTestServer, tempDir, type TestServer } from '../../server/test/helpers.js';

// Client test helpers: real SDK clients (Node, `ws` injected) against real servers. Waiting is
// for an event with a deadline that only turns a hang into a readable failure (test/wait.ts).

/** Options that keep tests fast: short backoff, quick give-up on a silent connect. */
export const FAST: ClientOptions = { minReconnectDelay: 20, maxReconnectDelay: 200, connectTimeout: 5000 };

export function client(url: string, options: ClientOptions = {}): RoomcastClient {
  return new RoomcastClient(url, { WebSocket, ...FAST, ...options });
}

/** Connects a new client; closed by `closeAll`. */
export async function connect(url: string, options: ClientOptions = {}, into?: RoomcastClient[]): Promise<RoomcastClient> {
  const c = client(url, options);
  into?.push(c);
  await c.connect();
  return c;
}

/** Resolves with the first event (after now) that matches. */
export function nextEvent<K extends keyof ClientEvents>(
  c: RoomcastClient,
  event: K,
  match: (ctx: ClientEvents[K]) => boolean = () => true,
  timeoutMs = WAIT_MS,
): Promise<ClientEvents[K]> {
  let got: { ctx: ClientEvents[K] } | undefined;
  const wait = waitUntil(() => got, {
    what: `a matching "${String(event)}" event`,
    timeoutMs,
    on: (wake) =>
      c.on(event, (ctx) => {
        if (got || !match(ctx)) return;
        got = { ctx };
        wake();
      }),
  });
  return wait.then((g) => g.ctx);
}

/** Resolves when the client is in `state` (now or later). */
export function whenState(c: RoomcastClient, state: ConnectionState, timeoutMs = WAIT_MS): Promise<void> {
  if (c.state === state) return Promise.resolve();
  return nextEvent(c, 'state', (e) => e.state === state, timeoutMs).then(() => undefined);
}

/** Collects a room's messages; `until(n)` waits for at least n of them. */
export function collect(room: Room): { messages: Message[]; until(n: number, timeoutMs?: number): Promise<Message[]> } {
  const messages: Message[] = [];
  room.on('message', (m) => messages.push(m));
  return {
    messages,
    async until(n, timeoutMs = WAIT_MS) {
      await waitUntil(() => messages.length >= n, {
        what: `${n} messages in ${room.id}`,
        seen: () => `${messages.length}, seqs ${messages.map((m) => m.seq).join(',')}`,
        timeoutMs,
        on: (wake) => room.on('message', wake),
      });
      return messages;
    },
  };
}
