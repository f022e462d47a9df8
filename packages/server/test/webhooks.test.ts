import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/wait.js';
import { binaryFrame, startTestServer, type TestServer } from './helpers.js';
import { Receiver } from './webhooks-receiver.js';

// Each webhook event type arrives, signed, with the protocol's shapes as data.

const SECRET = 'webhook-secret-for-tests-0123';

describe('webhooks: every event type', () => {
  let receiver: Receiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await new Receiver({ secret: SECRET }).start();
    server = await startTestServer({ webhookUrl: receiver.url, webhookSecret: SECRET, unreachedDelayMs: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });

  const arrived = (type: string, match: (d: Record<string, any>) => boolean = () => true) =>
    waitUntil(() => receiver.ofType(type).find((e) => match(e.data)), { what: `a ${type} event`, on: receiver.on, seen: () => receiver.accepted.map((e) => e.type).join(', ') });

  it('sends room, member, message, reaction and presence events with valid signatures', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await arrived('user.online', (d) => d.user.id === alice.userId);
    await alice.ok('create', { room: 'hooks' });
    const created = await arrived('room.created', (d) => d.room.id === 'hooks');
    expect(created.data.room).toMatchObject({ id: 'hooks', visibility: 'public', owner: alice.userId, persist: true });
    await arrived('member.joined', (d) => d.room === 'hooks' && d.user.id === alice.userId);

    const bob = await server.connect({ name: 'Bob' });
    await bob.ok('join', { room: 'hooks' });
    const joined = await arrived('member.joined', (d) => d.user.id === bob.userId);
    expect(joined.data).toEqual({ room: 'hooks', user: { id: bob.userId, name: 'Bob' } });

    const sent = await alice.ok('send', { room: 'hooks', text: 'hello', meta: { k: 1 } });
    const msg = await arrived('message.created', (d) => d.seq === sent.seq);
    expect(msg.data).toEqual({ op: 'msg', room: 'hooks', seq: sent.seq, id: sent.id, from: { id: alice.userId, name: 'Alice' }, ts: sent.ts, text: 'hello', meta: { k: 1 } });

    const bin = await alice.ok('send', { room: 'hooks', text: 'second' });
    await alice.ok('edit', { room: 'hooks', seq: bin.seq, text: 'second, edited' });
    expect((await arrived('message.edited')).data).toMatchObject({ op: 'edit', room: 'hooks', target: bin.seq, text: 'second, edited', from: { id: alice.userId } });
    await bob.ok('react', { room: 'hooks', seq: sent.seq, emoji: '👍' });
    expect((await arrived('reaction.changed')).data).toMatchObject({ op: 'reaction', target: sent.seq, emoji: '👍', on: true, count: 1, user: { id: bob.userId, name: 'Bob' } });
    await alice.ok('unsend', { room: 'hooks', seq: bin.seq });
    expect((await arrived('message.unsent')).data).toMatchObject({ op: 'unsend', target: bin.seq, by: { id: alice.userId } });

    await alice.ok('update', { room: 'hooks', title: 'Hooks' });
    expect((await arrived('room.updated')).data.room).toMatchObject({ id: 'hooks', title: 'Hooks' });

    const carol = await server.connect({ name: 'Carol' });
    await carol.ok('join', { room: 'hooks' });
    await carol.ok('leave', { room: 'hooks' });
    expect((await arrived('member.left', (d) => d.user.id === carol.userId)).data).toEqual({ room: 'hooks', user: { id: carol.userId, name: 'Carol' } });
    await alice.ok('kick', { room: 'hooks', user: bob.userId });
    expect((await arrived('member.kicked')).data).toMatchObject({ room: 'hooks', user: { id: bob.userId, name: 'Bob' } });

    await carol.close();
    expect((await arrived('user.offline', (d) => d.user.id === carol.userId)).data).toEqual({ user: { id: carol.userId, name: 'Carol' } });

    await alice.ok('delete', { room: 'hooks' });
    expect((await arrived('room.deleted')).data.room).toMatchObject({ id: 'hooks', deleted: true });

    // Every request was signed, with the id and type headers and a JSON body.
    for (const a of receiver.arrivals) {
      expect(a.signed).toBe(true);
      expect(a.headers['content-type']).toBe('application/json');
      expect(a.headers['x-roomcast-event-id']).toBe(a.event.id);
      expect(a.headers['x-roomcast-event-type']).toBe(a.event.type);
      expect(a.event.id).toMatch(/^evt_/);
    }
  });

  it('sends a direct message as message.created of its room, and binary as {mime, name, size}', async () => {
    const dan = await server.connect({ name: 'Dan' });
    const eve = await server.connect({ name: 'Eve' });
    const reply = await dan.ok('dm', { to: eve.userId, text: 'psst' });
    await arrived('room.created', (d) => d.room.id === reply.room && d.room.direct === true);
    expect((await arrived('message.created', (d) => d.room === reply.room)).data).toMatchObject({ text: 'psst', from: { id: dan.userId } });
    await dan.ok('create', { room: 'files' });
    const payload = Buffer.from('PNGDATA');
    dan.sendRaw(binaryFrame({ op: 'send', ref: 'b', room: 'files', mime: 'image/png', name: 'a.png' }, payload));
    const file = await arrived('message.created', (d) => d.room === 'files');
    expect(file.data.binary).toEqual({ mime: 'image/png', name: 'a.png', size: payload.length });
  });
});
