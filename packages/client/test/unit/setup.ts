import { vi } from 'vitest';
import { RoomcastClient } from '../../src/client.js';
import type { ClientOptions } from '../../src/options.js';
import type { Message } from '../../src/messages.js';
import { FakeNetwork } from '../fake-socket.js';

/** A client on a scripted network; backoff jitter pinned to the top of its range. */
export function setup(options: ClientOptions = {}) {
  const net = new FakeNetwork();
  const chat = new RoomcastClient('ws://test.invalid/ws', { socket: net.factory, random: () => 0.999999, ...options });
  const states: string[] = [];
  chat.on('state', (s) => states.push(s.state));
  const errors: string[] = [];
  chat.on('error', (e) => errors.push(e.error.code));
  return { net, chat, states, errors };
}

/** Lets promise callbacks run (fake timers leave microtasks alone). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Connects and welcomes; returns the socket. */
export async function connected(s: ReturnType<typeof setup>, welcome: Parameters<FakeNetwork['last']['welcome']>[0] = {}) {
  const done = s.chat.connect();
  s.net.last.welcome(welcome);
  await done;
  return s.net.last;
}

/** Joins a room on the current fake connection at `lastSeq`, with listeners attached. */
export async function joined(s: ReturnType<typeof setup>, id: string, lastSeq = 0, options = {}) {
  const pending = s.chat.join(id, options);
  s.net.last.acceptJoin(id, lastSeq);
  const room = await pending;
  const seen: Message[] = [];
  room.on('message', (m) => seen.push(m));
  vi.advanceTimersByTime(0); // the hold after join
  return { room, seen, seqs: () => seen.map((m) => m.seq) };
}
