import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserRef } from '@roomcast/protocol';
import { outboxEvent } from '../src/store/outbox.js';
import type { Store } from '../src/store/store.js';
import { newRoom, type StoreHarness } from './store-contract.js';

// The Store contract for the webhook outbox: rows written with the change that caused them
// (only when it happened), one per endpoint that wants the type, claimed lane head first with a
// lease, retried, completed; and the unreached checks. Through the Store interface only.

const [alice, bob] = ['u-alice', 'u-bob'].map((id): UserRef => ({ id, name: id.slice(2) })) as [UserRef, UserRef];
const claim = (store: Store, endpoint: string, now: number, owner = 'n1', limit = 10) => store.claimOutbox({ endpoint, owner, now, leaseUntil: now + 1000, limit });

export function outboxContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`Store contract, outbox: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
      for (const u of [alice, bob]) await store.upsertUser(u);
    });

    afterEach(async () => {
      await store.close();
      await harness.cleanup();
    });

    it('writes nothing when no endpoint is configured', async () => {
      await store.createRoom(newRoom('r1'), [outboxEvent('room.created', 'r1', {}, 1)]);
      await store.append({ room: 'r1', persist: true, from: alice, msgId: 'm1', text: 'hi', ts: 2 });
      expect(store.outboxWants('message.created')).toBe(false);
      expect(await store.outboxBacklog()).toEqual([]);
    });

    it('writes one row per wanting endpoint, only when the change happened, and hands out lane heads in order', async () => {
      store.configureOutbox([{ endpoint: 'all', types: null }, { endpoint: 'rooms', types: new Set(['room.created']) }]);
      expect(store.outboxWants('member.joined')).toBe(true);
      expect(await store.createRoom(newRoom('r1'), [outboxEvent('room.created', 'r1', { n: 1 }, 1)])).toBe(true);
      // Taken: no event.
      expect(await store.createRoom(newRoom('r1'), [outboxEvent('room.created', 'r1', { n: 2 }, 1)])).toBe(false);
      expect(await store.addMember('r1', bob.id, null, 5, [outboxEvent('member.joined', 'r1', {}, 5)])).toBe('added');
      expect(await store.addMember('r1', bob.id, null, 5, [outboxEvent('member.joined', 'r1', {}, 5)])).toBe('already');
      const sent = await store.append({ room: 'r1', persist: true, from: alice, msgId: 'm1', text: 'hi', ts: 10 });
      await store.enqueueEvents([outboxEvent('user.online', null, { user: alice }, 11)]);
      const backlog = new Map((await store.outboxBacklog()).map((b) => [b.endpoint, b.pending]));
      expect(backlog).toEqual(new Map([['all', 4], ['rooms', 1]]));

      // The room's lane gives its head only; the user event is in a lane of its own.
      const first = await claim(store, 'all', 100);
      expect(first.map((r) => r.type)).toEqual(['room.created', 'user.online']);
      expect(JSON.parse(first[0]!.body)).toMatchObject({ type: 'room.created', data: { n: 1 } });
      // Leased: nobody else gets them, and the lane's next waits.
      expect(await claim(store, 'all', 100, 'n2')).toEqual([]);
      await store.retryOutbox(first[0]!.pos, 500, 'answered 500');
      expect(await claim(store, 'all', 200, 'n2')).toEqual([]);
      await store.completeOutbox(first[1]!.pos);
      const again = await claim(store, 'all', 500, 'n2');
      expect(again.map((r) => [r.type, r.attempts])).toEqual([['room.created', 1]]);
      await store.completeOutbox(again[0]!.pos);
      expect((await claim(store, 'all', 600)).map((r) => r.type)).toEqual(['member.joined']);
      // A lease that ran out is anyone's.
      const taken = await claim(store, 'all', 5000, 'n3');
      expect(taken.map((r) => r.type)).toEqual(['member.joined']);
      await store.completeOutbox(taken[0]!.pos);
      const msg = await claim(store, 'all', 5000);
      expect(JSON.parse(msg[0]!.body).data).toMatchObject({ op: 'msg', room: 'r1', seq: sent.seq, text: 'hi', from: alice });
      expect((await store.outboxBacklog()).find((b) => b.endpoint === 'all')?.lastError).toBe(null);
    });

    it('keeps unreached checks: one per room, the members owed an event, told once', async () => {
      store.configureOutbox([{ endpoint: 'push', types: new Set(['message.unreached']) }], { unreachedDelayMs: 100 });
      await store.createRoom(newRoom('r1'));
      for (const u of [alice, bob]) await store.addMember('r1', u.id, null, 1);
      for (let i = 0; i < 3; i++) await store.append({ room: 'r1', persist: true, from: alice, msgId: `m${i}`, text: `t${i}`, ts: 10 + i });
      expect(await store.claimUnreachedChecks({ owner: 'n1', now: 50, leaseUntil: 1050, limit: 10 })).toEqual([]);
      const [check] = await store.claimUnreachedChecks({ owner: 'n1', now: 200, leaseUntil: 1200, limit: 10 });
      expect(check).toEqual({ room: 'r1', fromSeq: 1, toSeq: 3 });
      const state = await store.unreachedCandidates(check!);
      expect(state?.candidates.map((c) => c.user.id)).toEqual([bob.id]);
      const sum = await store.unreachedSummary('r1', bob.id, state!.candidates[0]!.after, state!.upTo);
      expect(sum).toMatchObject({ count: 3, firstSeq: 1, lastSeq: 3, last: { seq: 3, text: 't2', from: alice } });
      await store.finishUnreachedCheck(check!, state!.upTo, [outboxEvent('message.unreached', null, { count: 3 }, 200)], [bob.id], 300);
      expect(await store.claimUnreachedChecks({ owner: 'n1', now: 10_000, leaseUntil: 11_000, limit: 10 })).toEqual([]);
      expect((await store.outboxBacklog())[0]?.pending).toBe(1);
      // A new message: a new check, and Bob is owed only that one.
      await store.append({ room: 'r1', persist: true, from: alice, msgId: 'm9', text: 'later', ts: 400 });
      const [next] = await store.claimUnreachedChecks({ owner: 'n1', now: 600, leaseUntil: 1600, limit: 10 });
      const later = await store.unreachedCandidates(next!);
      expect(later?.candidates).toEqual([{ user: bob, after: 3 }]);
    });
  });
}
