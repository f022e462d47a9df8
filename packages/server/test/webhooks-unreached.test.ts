import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/wait.js';
import { spawnServe, type ChildServer } from './child-server.js';
import { removeDir, startTestServer, tempDir, TestClient, type TestServer } from './helpers.js';
import { Receiver } from './webhooks-receiver.js';

// message.unreached: one event per offline member for a burst, none for an online member, and
// none lost to a crash during --unreached-delay.

const SECRET = 'webhook-secret-for-tests-0123';
const servers: TestServer[] = [];
const children: ChildServer[] = [];
const receivers: Receiver[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const c of children.splice(0)) c.child.kill('SIGKILL');
  for (const r of receivers.splice(0)) await r.close();
  for (const d of dirs.splice(0)) removeDir(d);
});

const unreachedOf = (r: Receiver, user: string) => r.ofType('message.unreached').filter((e) => (e.data.user as { id: string }).id === user);

describe('message.unreached', () => {
  it('sends one event for a burst to an offline member, none to an online one', async () => {
    const receiver = await new Receiver({ secret: SECRET }).start();
    receivers.push(receiver);
    const server = await startTestServer({ webhookUrl: receiver.url, webhookSecret: SECRET, unreachedDelayMs: 1000, ratePerSec: 0 });
    servers.push(server);
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const carol = await server.connect({ name: 'Carol' });
    await alice.ok('create', { room: 'burst' });
    await bob.ok('join', { room: 'burst' });
    await carol.ok('join', { room: 'burst' });
    await bob.close();
    await waitUntil(() => receiver.ofType('user.offline').length > 0, { what: 'Bob offline', on: receiver.on });

    const sent = await Promise.all(Array.from({ length: 30 }, (_, i) => alice.ok('send', { room: 'burst', text: `message ${i}` })));
    const seqs = sent.map((r) => r.seq as number).sort((a, b) => a - b);
    const [event] = await waitUntil(() => (unreachedOf(receiver, bob.userId).length > 0 ? unreachedOf(receiver, bob.userId) : null), { what: "Bob's message.unreached", on: receiver.on });
    expect(event!.data).toMatchObject({ room: 'burst', user: { id: bob.userId, name: 'Bob' }, count: 30, firstSeq: seqs[0], lastSeq: seqs[29] });
    expect((event!.data.last as Record<string, unknown>)).toMatchObject({ seq: seqs[29], from: { id: alice.userId, name: 'Alice' } });
    // The same check looked at Carol, who is connected: nothing for her, nor for the sender.
    expect(unreachedOf(receiver, carol.userId)).toEqual([]);
    expect(unreachedOf(receiver, alice.userId)).toEqual([]);

    // A later message is a new burst: one more event, counting only it.
    const more = await alice.ok('send', { room: 'burst', text: 'later' });
    await waitUntil(() => unreachedOf(receiver, bob.userId).length === 2, { what: 'a second event', on: receiver.on });
    expect(unreachedOf(receiver, bob.userId)[1]!.data).toMatchObject({ count: 1, firstSeq: more.seq, lastSeq: more.seq });
    expect(unreachedOf(receiver, carol.userId)).toEqual([]);
  });

  it('still sends it when the server is killed during the delay', async () => {
    const receiver = await new Receiver({ secret: SECRET }).start();
    receivers.push(receiver);
    const data = tempDir();
    dirs.push(data);
    const args = ['--port', '0', '--host', '127.0.0.1', '--data', data, '--presence-grace', '0', '--webhook-url', receiver.url, '--webhook-secret', SECRET, '--unreached-delay', '3000'];
    const first = await spawnServe(args);
    children.push(first);
    const url = `ws://127.0.0.1:${first.port}/ws`;
    const alice = await TestClient.connect(url, { name: 'Alice' });
    const bob = await TestClient.connect(url, { name: 'Bob' });
    await alice.ok('create', { room: 'crash' });
    await bob.ok('join', { room: 'crash' });
    await bob.close();
    await waitUntil(() => receiver.ofType('user.offline').length > 0, { what: 'Bob offline', on: receiver.on });
    for (let i = 0; i < 5; i++) await alice.ok('send', { room: 'crash', text: `m${i}` });
    // Killed well within the delay: nothing was sent for Bob yet.
    expect(unreachedOf(receiver, bob.userId)).toEqual([]);
    first.child.kill('SIGKILL');
    await first.exited;
    alice.ws.terminate();

    children.push(await spawnServe(args));
    const [event] = await waitUntil(() => (unreachedOf(receiver, bob.userId).length > 0 ? unreachedOf(receiver, bob.userId) : null), { what: "Bob's message.unreached after the restart", on: receiver.on });
    expect(event!.data).toMatchObject({ room: 'crash', count: 5, user: { id: bob.userId } });
  }, 30_000);
});
