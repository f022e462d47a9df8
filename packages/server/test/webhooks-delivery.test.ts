import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/wait.js';
import { startTestServer, type TestServer } from './helpers.js';
import { Receiver } from './webhooks-receiver.js';

// Delivery: a receiver that is down and comes back, retries with backoff, events given up on
// after --webhook-max-age (and the status route saying so), a receiver that never answers.

const SECRET = 'webhook-secret-for-tests-0123';
const API_KEY = 'api-key-for-webhook-tests';

const servers: TestServer[] = [];
const receivers: Receiver[] = [];
beforeEach(() => {
  // Short backoff and poll: retries come in milliseconds (a test knob, webhooks/wiring.ts).
  process.env.ROOMCAST_WEBHOOK_TUNING = JSON.stringify({ backoff: { baseMs: 20, capMs: 200 }, pollMs: 50 });
});
afterEach(async () => {
  delete process.env.ROOMCAST_WEBHOOK_TUNING;
  for (const s of servers.splice(0)) await s.close();
  for (const r of receivers.splice(0)) await r.close();
});

async function start(receiverUrl: string, options: Record<string, unknown> = {}): Promise<TestServer> {
  const s = await startTestServer({ webhookUrl: receiverUrl, webhookSecret: SECRET, apiKey: API_KEY, ...options });
  servers.push(s);
  return s;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const seqsOf = (r: Receiver, room: string) => r.ofType('message.created').filter((e) => e.data.room === room).map((e) => e.data.seq as number);

async function status(server: TestServer): Promise<any> {
  const res = await fetch(`${server.url}/api/webhooks/status`, { headers: { authorization: `Bearer ${API_KEY}` } });
  expect(res.status).toBe(200);
  return res.json();
}

describe('webhook delivery', () => {
  it('gives a receiver that was down everything once it is back, in order per room', async () => {
    const port = await freePort();
    const server = await start(`http://127.0.0.1:${port}/hook`);
    const alice = await server.connect({ name: 'Alice' });
    for (const room of ['a', 'b']) await alice.ok('create', { room });
    for (let i = 0; i < 20; i++) await alice.ok('send', { room: i % 2 ? 'a' : 'b', text: `m${i}` });
    const down = await waitUntil(async () => {
      const st = await status(server);
      return st.endpoints[0].lastError ? st : null;
    }, { what: 'a failed attempt in the status', pollMs: 20 });
    expect(down.endpoints[0]).toMatchObject({ endpoint: `http://127.0.0.1:${port}/hook`, delivered: 0 });
    expect(down.endpoints[0].backlog).toBeGreaterThan(0);
    expect(down.endpoints[0].lastError).toMatch(/ECONNREFUSED|failed/);

    const receiver = await new Receiver({ secret: SECRET }).start(port);
    receivers.push(receiver);
    await waitUntil(() => seqsOf(receiver, 'a').length === 10 && seqsOf(receiver, 'b').length === 10, { what: 'all 20 messages', on: receiver.on });
    expect(seqsOf(receiver, 'a')).toEqual([...seqsOf(receiver, 'a')].sort((x, y) => x - y));
    expect(seqsOf(receiver, 'b')).toEqual([...seqsOf(receiver, 'b')].sort((x, y) => x - y));
    await waitUntil(async () => (await status(server)).endpoints[0].backlog === 0, { what: 'an empty backlog', pollMs: 20 });
  });

  it('retries a failing event with backoff, keeping the room\'s later events behind it', async () => {
    const tries = new Map<string, number>();
    const receiver = await new Receiver({
      secret: SECRET,
      // Each message fails three times before it is taken.
      answer: (e) => {
        if (e.type !== 'message.created') return 200;
        const n = (tries.get(e.id) ?? 0) + 1;
        tries.set(e.id, n);
        return n <= 3 ? 503 : 200;
      },
    }).start();
    receivers.push(receiver);
    const server = await start(receiver.url);
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'retry' });
    for (let i = 0; i < 5; i++) await alice.ok('send', { room: 'retry', text: `m${i}` });
    await waitUntil(() => seqsOf(receiver, 'retry').length === 5, { what: 'five messages', on: receiver.on });
    expect(seqsOf(receiver, 'retry')).toEqual([1, 2, 3, 4, 5]);
    expect([...tries.values()]).toEqual([4, 4, 4, 4, 4]);
    // Each request for a later message came after the earlier one was taken.
    const order = receiver.arrivals.filter((a) => a.event.type === 'message.created').map((a) => a.event.data.seq as number);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    const s = (await status(server)).endpoints[0];
    expect(s).toMatchObject({ failed: 15, dropped: 0 });
    expect(s.delivered).toBeGreaterThanOrEqual(5);
    expect(s.lastSuccessAt).toBeGreaterThan(0);
  });

  it('drops an event still failing after --webhook-max-age, logged and counted', async () => {
    const receiver = await new Receiver({ secret: SECRET, answer: (e) => (e.type === 'message.created' ? 500 : 200) }).start();
    receivers.push(receiver);
    const server = await start(receiver.url, { webhookMaxAgeMs: 1000 });
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'doomed' });
    await alice.ok('send', { room: 'doomed', text: 'never taken' });
    await waitUntil(async () => (await status(server)).endpoints[0].dropped === 1, { what: 'the event dropped', pollMs: 50 });
    const s = (await status(server)).endpoints[0];
    expect(s.backlog).toBe(0);
    expect(s.lastError).toMatch(/answered 500/);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/roomcast_webhook_dropped\{endpoint="[^"]+"\} 1/);
    expect(metrics).toMatch(/roomcast_webhook_backlog\{endpoint="[^"]+"\} 0/);
  });

  it('times out a receiver that never answers, and other rooms do not wait beyond that', async () => {
    let hung = 0;
    const receiver = await new Receiver({
      secret: SECRET,
      // The slow room's first message is never answered, once.
      answer: (e) => (e.type === 'message.created' && e.data.room === 'slow' && hung++ === 0 ? 'hang' : 200),
    }).start();
    receivers.push(receiver);
    // A timeout far above what the other room's deliveries take, so the check below is not a race.
    const server = await start(receiver.url, { webhookTimeoutMs: 2000 });
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'slow' });
    await alice.ok('create', { room: 'fast' });
    await alice.ok('send', { room: 'slow', text: 'first' });
    await alice.ok('send', { room: 'slow', text: 'second' });
    await waitUntil(() => hung > 0, { what: 'the hanging request', on: receiver.on });
    for (let i = 0; i < 5; i++) await alice.ok('send', { room: 'fast', text: `f${i}` });
    // The fast room's events arrive while the slow room's first is still unanswered.
    await waitUntil(() => seqsOf(receiver, 'fast').length === 5, { what: 'the fast room', on: receiver.on });
    expect(seqsOf(receiver, 'slow')).toEqual([]);
    // After the timeout it is retried, and the slow room follows in order.
    await waitUntil(() => seqsOf(receiver, 'slow').length === 2, { what: 'the slow room', on: receiver.on });
    expect(seqsOf(receiver, 'slow')).toEqual([1, 2]);
    expect((await status(server)).endpoints[0].lastError).toMatch(/no answer within 2000 ms/);
  });

  it('refuses a webhook URL without a secret, naming the fix', async () => {
    await expect(startTestServer({ webhookUrl: 'http://127.0.0.1:1/hook' })).rejects.toThrow(/--webhook-url needs --webhook-secret/);
  });
});
