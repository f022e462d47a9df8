import WebSocket from 'ws';
import { RoomcastClient } from '../src/client.js';
import type { ClientEvents, ConnectionState } from '../src/types.js';
import type { ClientOptions } from '../src/options.js';
import type { Message } from '../src/messages.js';
import type { Room } from '../src/room.js';

export { removeDir, startTestServer, tempDir, type TestServer } from '../../server/test/helpers.js';

// Client test helpers: real SDK clients (Node, `ws` injected) against real servers. Waiting is
// for an event with a deadline that only turns a hang into a readable failure.

const WAIT_MS = 10_000;

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
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching "${String(event)}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = c.on(event, (ctx) => {
      if (!match(ctx)) return;
      clearTimeout(timer);
      off();
      resolve(ctx);
    });
  });
}

/** Resolves when the client is in `state` (now or later). */
export function whenState(c: RoomcastClient, state: ConnectionState, timeoutMs = WAIT_MS): Promise<void> {
  if (c.state === state) return Promise.resolve();
  return nextEvent(c, 'state', (e) => e.state === state, timeoutMs).then(() => undefined);
}

/** Collects a room's messages; `until(n)` waits for at least n of them. */
export function collect(room: Room): { messages: Message[]; until(n: number, timeoutMs?: number): Promise<Message[]> } {
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  room.on('message', (m) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  return {
    messages,
    async until(n, timeoutMs = WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${messages.length} of ${n} messages within ${timeoutMs} ms: seqs ${messages.map((m) => m.seq).join(',')}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return messages;
    },
  };
}

/** Resolves once `fn` returns true, checking on each of `c`'s events and every few ms. */
export async function eventually(fn: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
