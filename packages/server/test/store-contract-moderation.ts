import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserRef } from '@roomcast/protocol';
import type { Store } from '../src/store/store.js';
import { newRoom, type StoreHarness } from './store-contract.js';

// The Store contract for moderation: roles, bans (room and server-wide), mutes, the post gate and
// slow-mode turns. Run by every implementation through the Store interface only; times are
// given explicitly, so expiry is tested without waiting.

const [alice, bob, carol] = ['u-alice', 'u-bob', 'u-carol'].map((id): UserRef => ({ id, name: id.slice(2) })) as [UserRef, UserRef, UserRef];

export function moderationContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`Store contract, moderation: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
      for (const u of [alice, bob, carol]) await store.upsertUser(u);
      await store.createRoom(newRoom('r1'));
      for (const u of [alice, bob, carol]) await store.addMember('r1', u.id, null, 1_000);
    });

    afterEach(async () => {
      await store.close();
      await harness.cleanup();
    });

    it('keeps roles: the owner from the room, admins as set, everyone else a member', async () => {
      expect(await store.memberRole('r1', alice.id)).toBe('owner');
      expect(await store.memberRole('r1', bob.id)).toBe('member');
      expect(await store.memberRole('r1', 'u-nobody')).toBeNull();
      expect(await store.setMemberRole('r1', bob.id, 'admin')).toBe(true);
      expect(await store.setMemberRole('r1', 'u-nobody', 'admin')).toBe(false);
      expect(await store.memberRole('r1', bob.id)).toBe('admin');
      expect((await store.listMembers('r1')).map((m) => [m.id, m.role])).toEqual([
        [alice.id, 'owner'],
        [bob.id, 'admin'],
        [carol.id, 'member'],
      ]);
      // A membership that ends takes its role with it.
      await store.removeMember('r1', bob.id);
      await store.addMember('r1', bob.id, null, 2_000);
      expect(await store.memberRole('r1', bob.id)).toBe('member');
    });

    it('keeps room bans and server bans apart; an expired one is not returned; lifting says whether one was active', async () => {
      await store.putBan({ room: 'r1', user: bob.id, until: 5_000, reason: 'spam', by: alice.id, at: 1_000 });
      await store.putBan({ room: null, user: carol.id, until: null, reason: null, by: null, at: 1_500 });
      expect(await store.getBan('r1', bob.id, 4_999)).toEqual({ room: 'r1', user: bob.id, until: 5_000, reason: 'spam', by: alice.id, at: 1_000 });
      expect(await store.getBan('r1', bob.id, 5_000)).toBeNull();
      expect(await store.getBan(null, bob.id, 1_000)).toBeNull();
      expect(await store.getBan(null, carol.id, 9e12)).toMatchObject({ room: null, user: carol.id, until: null });
      expect(await store.getBan('r1', carol.id, 2_000)).toBeNull();
      expect((await store.listBans('r1', 2_000)).map((b) => b.user)).toEqual([bob.id]);
      expect(await store.listBans('r1', 6_000)).toEqual([]);
      expect((await store.listBans(null, 2_000)).map((b) => b.user)).toEqual([carol.id]);
      // A second ban replaces the first.
      await store.putBan({ room: 'r1', user: bob.id, until: null, reason: null, by: alice.id, at: 7_000 });
      expect(await store.getBan('r1', bob.id, 8_000)).toMatchObject({ until: null, reason: null, at: 7_000 });
      expect(await store.deleteBan('r1', bob.id, 8_000)).toBe(true);
      expect(await store.deleteBan('r1', bob.id, 8_000)).toBe(false);
      await store.putBan({ room: 'r1', user: bob.id, until: 5_000, reason: null, by: null, at: 1_000 });
      expect(await store.deleteBan('r1', bob.id, 6_000)).toBe(false);
      expect(await store.deleteBan(null, carol.id, 2_000)).toBe(true);
    });

    it('keeps mutes with their end, and the post gate reads role, mute and slow mode at once', async () => {
      expect(await store.postGate('r1', bob.id, 1_000)).toEqual({ role: 'member', mutedUntil: undefined, slowMode: 0 });
      expect(await store.postGate('r1', 'u-nobody', 1_000)).toEqual({ role: null, mutedUntil: undefined, slowMode: 0 });
      expect(await store.postGate('nowhere', bob.id, 1_000)).toBeNull();
      await store.putMute({ room: 'r1', user: bob.id, until: 5_000, by: alice.id, at: 1_000 });
      await store.putMute({ room: 'r1', user: carol.id, until: null, by: null, at: 1_100 });
      expect(await store.getMute('r1', bob.id, 2_000)).toEqual({ room: 'r1', user: bob.id, until: 5_000, by: alice.id, at: 1_000 });
      expect((await store.postGate('r1', bob.id, 2_000))?.mutedUntil).toBe(5_000);
      expect((await store.postGate('r1', carol.id, 2_000))?.mutedUntil).toBeNull();
      expect((await store.postGate('r1', bob.id, 5_000))?.mutedUntil).toBeUndefined();
      expect(await store.getMute('r1', bob.id, 5_000)).toBeNull();
      expect((await store.listMutes('r1', 2_000)).map((m) => m.user)).toEqual([bob.id, carol.id]);
      expect((await store.listMutes('r1', 6_000)).map((m) => m.user)).toEqual([carol.id]);
      expect(await store.deleteMute('r1', carol.id, 6_000)).toBe(true);
      expect(await store.deleteMute('r1', carol.id, 6_000)).toBe(false);
      const room = await store.updateRoom('r1', { slowMode: 30 });
      expect(room?.slowMode).toBe(30);
      expect(await store.postGate('r1', alice.id, 6_000)).toEqual({ role: 'owner', mutedUntil: undefined, slowMode: 30 });
      expect((await store.updateRoom('r1', { slowMode: 0 }))?.slowMode).toBeUndefined();
    });

    it('refuses moderated appends of a muted sender, and slow mode per sender, inside the commit (one batch included)', async () => {
      const post = (from: UserRef, ts: number, moderated: 'message' | 'change' | null = 'message', text = 'hi') =>
        store.append({ room: 'r1', persist: true, from, msgId: `m-${from.id}-${ts}-${text}`, text, ts, ...(moderated ? { moderated } : {}) });
      await store.putMute({ room: 'r1', user: bob.id, until: 50_000, by: alice.id, at: 1_000 });
      const refused = await post(bob, 2_000).catch((err: unknown) => err);
      expect(refused).toMatchObject({ code: 'muted', room: 'r1', until: 50_000 });
      await expect(post(bob, 2_000, 'change')).rejects.toMatchObject({ code: 'muted' });
      // Not moderated (a server admin, the API): not checked. Expired: allowed.
      expect((await post(bob, 2_000, null)).seq).toBe(1);
      expect((await post(bob, 50_000)).seq).toBe(2);
      await store.updateRoom('r1', { slowMode: 10 });
      // Three messages of Carol in one batch: the first takes the turn, the others wait for it.
      const burst = await Promise.allSettled([post(carol, 60_000, 'message', 'a'), post(carol, 60_001, 'message', 'b'), post(carol, 60_002, 'message', 'c')]);
      expect(burst.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
      expect(burst[1]).toMatchObject({ reason: { code: 'slow_mode', retryAfter: 9_999, slowMode: 10 } });
      await expect(post(carol, 65_000)).rejects.toMatchObject({ code: 'slow_mode', retryAfter: 5_000 });
      expect((await post(carol, 70_000)).seq).toBeGreaterThan(0);
      // The owner and room admins are exempt; changes never wait for slow mode.
      await store.setMemberRole('r1', bob.id, 'admin');
      for (const ts of [80_000, 80_001]) expect((await post(alice, ts)).seq).toBeGreaterThan(0);
      for (const ts of [80_000, 80_001]) expect((await post(bob, ts, 'message', `x${ts}`)).seq).toBeGreaterThan(0);
      expect((await post(carol, 71_000, 'change', 'edit')).seq).toBeGreaterThan(0);
    });

    it('refuses a moderated append by a non-member inside the commit (a kick committed on another node counts at once)', async () => {
      const post = (from: UserRef, ts: number, text: string, moderated?: 'message' | 'change') =>
        store.append({ room: 'r1', persist: true, from, msgId: `m-${from.id}-${ts}`, text, ts, ...(moderated ? { moderated } : {}) });
      expect((await post(bob, 1_000, 'member', 'message')).seq).toBe(1);
      await store.removeMember('r1', bob.id);
      await expect(post(bob, 2_000, 'kicked', 'message')).rejects.toMatchObject({ code: 'not_member', room: 'r1' });
      await expect(post(bob, 2_001, 'kicked edit', 'change')).rejects.toMatchObject({ code: 'not_member' });
      // In one batch, the member's post goes through and the non-member's does not.
      const both = await Promise.allSettled([post(carol, 3_000, 'ok', 'message'), post(bob, 3_001, 'no', 'message')]);
      expect(both.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      // Not moderated (a server admin, the API): not checked.
      expect((await post(bob, 4_000, 'api')).seq).toBeGreaterThan(1);
      expect(await store.membersAmong('r1', [alice.id, bob.id, carol.id, 'u-nobody'])).toEqual(new Set([alice.id, carol.id]));
    });

    it('forgets a deleted room’s bans, mutes and turns', async () => {
      await store.putBan({ room: 'r1', user: bob.id, until: null, reason: null, by: null, at: 1 });
      await store.putMute({ room: 'r1', user: carol.id, until: null, by: null, at: 1 });
      const post = (ts: number) => store.append({ room: 'r1', persist: true, from: bob, msgId: `m-${ts}`, text: 'hi', ts, moderated: 'message' });
      await store.updateRoom('r1', { slowMode: 10 });
      await post(1_000);
      await expect(post(1_001)).rejects.toMatchObject({ code: 'slow_mode' });
      await store.deleteRoom('r1');
      await store.createRoom(newRoom('r1'));
      // The new room's members are new too: Bob belongs to it only once he joins.
      await expect(post(1_001)).rejects.toMatchObject({ code: 'not_member' });
      await store.addMember('r1', bob.id, null, 1_001);
      expect(await store.getBan('r1', bob.id, 2)).toBeNull();
      expect(await store.getMute('r1', carol.id, 2)).toBeNull();
      await store.updateRoom('r1', { slowMode: 10 });
      expect((await post(1_001)).seq).toBe(1);
    });
  });
}
