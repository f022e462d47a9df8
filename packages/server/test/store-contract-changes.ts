import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserRef } from '@roomcast/protocol';
import type { AppendInput, AppendResult, ChangeInput, Store } from '../src/store/store.js';
import { newRoom, type StoreHarness } from './store-contract.js';

// The Store contract for message features: replies, mentions, edits, unsend, reactions, unread
// counts that count messages only, and reads in current state. Run by every implementation.

const alice: UserRef = { id: 'u-alice', name: 'Alice' };
const bob: UserRef = { id: 'u-bob', name: 'Bob' };
const carol: UserRef = { id: 'u-carol', name: 'Carol' };

const room = newRoom;

let counter = 0;
const msg = (r: string, from: UserRef, patch: Partial<AppendInput> = {}): AppendInput => {
  counter++;
  return { room: r, persist: true, from, msgId: `m-${counter}`, text: `text ${counter}`, ts: 10_000 + counter, ...patch };
};
const change = (r: string, from: UserRef, c: ChangeInput, ts = 20_000): AppendInput => ({ room: r, persist: true, from, msgId: `c-${++counter}`, ts, change: c });
const react = (target: number, emoji: string, on = true): ChangeInput => ({ kind: 'reaction', target, emoji, on, maxEmoji: 20 });

/** What the append is refused with: its code. */
async function refusal(p: Promise<AppendResult>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return String((err as { code?: string }).code);
  }
  return 'accepted';
}

export function changesContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`Store contract, message features: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
      await store.createRoom(room('r'));
      for (const u of [alice, bob, carol]) {
        await store.upsertUser(u);
        await store.addMember('r', u.id, null, 1);
      }
    });

    afterEach(async () => {
      await store.close();
      await harness.cleanup();
    });

    it('stores a reply with a quote of its target as it is now, and refuses a reply to nothing', async () => {
      await store.append(msg('r', alice, { text: 'x'.repeat(150) }));
      const reply = await store.append(msg('r', bob, { text: 'yes', replyTo: 1 }));
      expect(reply.quote).toEqual({ seq: 1, from: alice, text: 'x'.repeat(100) });
      expect(await refusal(store.append(msg('r', bob, { replyTo: 9 })))).toBe('not_found');
      expect((await store.getRoom('r'))?.lastSeq).toBe(2);
      await store.append(change('r', alice, { kind: 'edit', target: 1, text: 'short now', windowMs: 0 }));
      const [read] = await store.messagesBefore('r', null, 1);
      expect(read?.replyTo).toEqual({ seq: 1, from: alice, text: 'short now' });
      await store.append(change('r', alice, { kind: 'unsend', target: 1, windowMs: 0, moderator: false }));
      expect((await store.getMessage('r', 2))?.replyTo).toEqual({ seq: 1, unsent: true });
    });

    it('edits: the row takes the new text, the edit is an event of the stream, only the author within the window', async () => {
      await store.append(msg('r', alice, { text: 'helo', ts: 1_000 }));
      const e = await store.append(change('r', alice, { kind: 'edit', target: 1, text: 'hello', meta: { v: 2 }, windowMs: 0 }, 5_000));
      expect(e.seq).toBe(2);
      const stream = await store.messagesAfter('r', 0, 10);
      expect(stream.map((m) => [m.seq, m.kind, m.text])).toEqual([
        [1, 'msg', 'hello'],
        [2, 'edit', 'hello'],
      ]);
      expect(stream[0]).toMatchObject({ edited: 5_000, meta: { v: 2 } });
      expect(stream[1]).toMatchObject({ target: 1, from: alice, ts: 5_000 });
      expect(await refusal(store.append(change('r', bob, { kind: 'edit', target: 1, text: 'mine', windowMs: 0 })))).toBe('forbidden');
      expect(await refusal(store.append(change('r', alice, { kind: 'edit', target: 1, text: 'late', windowMs: 1_000 }, 5_000)))).toBe('forbidden');
      expect(await refusal(store.append(change('r', alice, { kind: 'edit', target: 2, text: 'an event', windowMs: 0 })))).toBe('not_found');
      expect(await refusal(store.append(change('r', alice, { kind: 'edit', target: 7, text: 'nothing', windowMs: 0 })))).toBe('not_found');
      // History lists messages only; its seqs skip the change events.
      expect((await store.messagesBefore('r', null, 10)).map((m) => m.seq)).toEqual([1]);
      expect((await store.messagesSince('r', 0, 10)).map((m) => m.seq)).toEqual([1]);
    });

    it('unsend erases the content (and the edits\' text), keeps a tombstone, answers a second unsend with already', async () => {
      await store.append(msg('r', bob, { text: 'secret', meta: { k: 1 }, mentions: [alice.id] }));
      await store.append(change('r', bob, { kind: 'edit', target: 1, text: 'secret two', windowMs: 0 }));
      await store.append(change('r', carol, react(1, '👍')));
      expect(await refusal(store.append(change('r', carol, { kind: 'unsend', target: 1, windowMs: 0, moderator: false })))).toBe('forbidden');
      const u = await store.append(change('r', bob, { kind: 'unsend', target: 1, windowMs: 0, moderator: false }));
      expect(u.seq).toBe(4);
      const again = await store.append(change('r', alice, { kind: 'unsend', target: 1, windowMs: 0, moderator: true }));
      expect(again).toMatchObject({ seq: 0, already: true });
      const stream = await store.messagesAfter('r', 0, 10, { viewer: carol.id });
      expect(stream[0]).toEqual({ room: 'r', seq: 1, kind: 'msg', id: expect.any(String), from: bob, ts: expect.any(Number), unsent: true });
      expect(stream[1]).toMatchObject({ kind: 'edit', target: 1 });
      expect(stream[1]?.text).toBeUndefined();
      expect(stream.map((m) => m.kind)).toEqual(['msg', 'edit', 'reaction', 'unsend']);
      expect(await refusal(store.append(change('r', carol, react(1, '🎉'))))).toBe('not_found');
      expect(await refusal(store.append(change('r', bob, { kind: 'edit', target: 1, text: 'back', windowMs: 0 })))).toBe('not_found');
      // Its mention no longer counts.
      expect((await store.unreadOf('r', alice.id, 0)).mentions).toBe(0);
    });

    it('unsend of a binary message deletes its bytes', async () => {
      await store.append(msg('r', bob, { text: undefined, binary: { mime: 'image/png', name: 'a.png', data: new Uint8Array([1, 2, 3]) } }));
      expect(await store.getBlob('r', 1)).not.toBeNull();
      await store.append(change('r', bob, { kind: 'unsend', target: 1, windowMs: 0, moderator: false }));
      expect(await store.getBlob('r', 1)).toBeNull();
      expect((await store.getMessage('r', 1))?.binary).toBeUndefined();
    });

    it('reactions: counts per emoji in first-given order, `me` per viewer, twice is already, at most maxEmoji kinds', async () => {
      await store.append(msg('r', alice));
      expect(await store.append(change('r', bob, react(1, '👍')))).toMatchObject({ seq: 2, count: 1 });
      expect(await store.append(change('r', carol, react(1, '👍')))).toMatchObject({ seq: 3, count: 2 });
      expect(await store.append(change('r', carol, react(1, '😂')))).toMatchObject({ seq: 4, count: 1 });
      expect(await store.append(change('r', carol, react(1, '😂')))).toMatchObject({ seq: 0, already: true, count: 1 });
      expect(await store.append(change('r', alice, react(1, '😂', false)))).toMatchObject({ seq: 0, already: true, count: 1 });
      const asBob = await store.getMessage('r', 1, { viewer: bob.id });
      expect(asBob?.reactions).toEqual([
        { emoji: '👍', count: 2, me: true },
        { emoji: '😂', count: 1, me: false },
      ]);
      expect(await store.append(change('r', carol, react(1, '👍', false)))).toMatchObject({ seq: 5, count: 1 });
      const stream = await store.messagesAfter('r', 1, 10);
      expect(stream.map((m) => m.reaction)).toEqual([
        { emoji: '👍', on: true, count: 1 },
        { emoji: '👍', on: true, count: 2 },
        { emoji: '😂', on: true, count: 1 },
        { emoji: '👍', on: false, count: 1 },
      ]);
      const many = Array.from({ length: 19 }, (_, i) => change('r', bob, { kind: 'reaction', target: 1, emoji: `e${i}`, on: true, maxEmoji: 20 }));
      const results = await Promise.all(many.map((i) => store.append(i).catch((err: { code?: string }) => err.code)));
      // 2 kinds given already: 18 more are accepted, the 19th new kind is refused.
      expect(results.filter((r) => typeof r === 'string')).toEqual(['bad_request']);
    });

    it('an emoji keeps its place while anyone still gives it, even when its first giver takes it back', async () => {
      await store.append(msg('r', alice));
      await store.append(change('r', bob, react(1, '👍'), 1_000));
      await store.append(change('r', carol, react(1, '🎉'), 2_000));
      await store.append(change('r', carol, react(1, '👍'), 3_000));
      await store.append(change('r', bob, react(1, '👍', false), 4_000));
      expect((await store.getMessage('r', 1))?.reactions?.map((r) => [r.emoji, r.count])).toEqual([
        ['👍', 1],
        ['🎉', 1],
      ]);
      // Gone and given again: it goes to the end.
      await store.append(change('r', carol, react(1, '👍', false), 5_000));
      await store.append(change('r', bob, react(1, '👍'), 6_000));
      expect((await store.getMessage('r', 1))?.reactions?.map((r) => r.emoji)).toEqual(['🎉', '👍']);
    });

    it('quotes whole characters: an emoji at the cut is kept or dropped, never halved', async () => {
      await store.append(msg('r', alice, { text: `${'a'.repeat(99)}😀😀 tail` }));
      const reply = await store.append(msg('r', bob, { text: 're', replyTo: 1 }));
      expect(reply.quote?.text).toBe(`${'a'.repeat(99)}😀`);
      expect((await store.getMessage('r', 2))?.replyTo?.text).toBe(`${'a'.repeat(99)}😀`);
    });

    it('applies changes of one batch in order, each seeing the ones before', async () => {
      await store.append(msg('r', alice));
      const batch = await Promise.all([
        store.append(msg('r', bob, { text: 'new' })),
        store.append(change('r', carol, react(1, '👍'))),
        store.append(change('r', carol, react(1, '👍'))),
        store.append(change('r', bob, react(2, '👀'))),
        store.append(change('r', bob, { kind: 'edit', target: 2, text: 'newer', windowMs: 0 })),
      ]);
      expect(batch.map((r) => r.seq)).toEqual([2, 3, 0, 4, 5]);
      expect((await store.getMessage('r', 2))?.text).toBe('newer');
      expect((await store.getMessage('r', 1))?.reactions).toEqual([{ emoji: '👍', count: 1, me: false }]);
    });

    it('writes a batch\'s changes in order: given, taken back, given again ends given; given then unsent ends erased', async () => {
      await store.append(msg('r', alice));
      await store.append(msg('r', alice));
      const toggles = await Promise.all([
        store.append(change('r', bob, react(1, '🔥'))),
        store.append(change('r', bob, react(1, '🔥', false))),
        store.append(change('r', bob, react(1, '🔥'))),
        store.append(change('r', carol, react(2, '👍'))),
        store.append(change('r', alice, { kind: 'unsend', target: 2, windowMs: 0, moderator: false })),
      ]);
      expect(toggles.map((t) => t.count)).toEqual([1, 0, 1, 1, undefined]);
      expect((await store.getMessage('r', 1, { viewer: bob.id }))?.reactions).toEqual([{ emoji: '🔥', count: 1, me: true }]);
      // Reacting to message 2 again would find the erased reaction gone, not "already".
      const third = await store.append(msg('r', alice));
      expect(await refusal(store.append(change('r', carol, react(2, '👍'))))).toBe('not_found');
      expect(await store.append(change('r', carol, react(third.seq, '👍')))).toMatchObject({ count: 1 });
    });

    it('counts unread messages only, and unread mentions, from a read cursor', async () => {
      await store.append(msg('r', alice, { mentions: [bob.id, bob.id] }));
      await store.append(change('r', alice, react(1, '👍')));
      await store.append(msg('r', alice));
      await store.append(change('r', alice, { kind: 'edit', target: 3, text: 'edited', windowMs: 0 }));
      await store.append(msg('r', alice, { mentions: [bob.id, carol.id] }));
      expect(await store.unreadOf('r', bob.id, 0)).toEqual({ unread: 3, mentions: 2 });
      expect(await store.unreadOf('r', bob.id, 2)).toEqual({ unread: 2, mentions: 1 });
      expect(await store.unreadOf('r', bob.id, 4)).toEqual({ unread: 1, mentions: 1 });
      expect(await store.unreadOf('r', bob.id, 5)).toEqual({ unread: 0, mentions: 0 });
      await store.setReadSeq('r', bob.id, 2);
      const [mine] = await store.memberRooms(bob.id);
      expect(mine).toMatchObject({ id: 'r', lastSeq: 5, readSeq: 2, unread: 2, mentions: 1 });
      // The sender's own cursor moved to their message.
      expect((await store.memberRooms(alice.id))[0]).toMatchObject({ unread: 0, mentions: 0 });
      expect((await store.getMessage('r', 1))?.mentions).toEqual([bob.id]);
    });

    it('ephemeral rooms: unread is the seq distance, replies need only a seq the room had, changes are refused', async () => {
      await store.createRoom(room('pop', { persist: false }));
      await store.addMember('pop', bob.id, null, 1);
      await store.append(msg('pop', alice, { persist: false }));
      const r = await store.append(msg('pop', alice, { persist: false, replyTo: 1 }));
      expect(r.quote).toEqual({ seq: 1 });
      expect(await refusal(store.append(msg('pop', alice, { persist: false, replyTo: 5 })))).toBe('not_found');
      expect(await refusal(store.append({ ...change('pop', alice, react(1, '👍')), persist: false }))).toBe('not_found');
      expect((await store.memberRooms(bob.id)).find((m) => m.id === 'pop')).toMatchObject({ unread: 2 });
    });

    it('moves a read cursor forward only, saying whether it moved', async () => {
      await store.append(msg('r', alice));
      await store.append(msg('r', alice));
      expect(await store.moveReadSeq('r', bob.id, 1)).toEqual({ readSeq: 1, moved: true });
      expect(await store.moveReadSeq('r', bob.id, 1)).toEqual({ readSeq: 1, moved: false });
      expect(await store.moveReadSeq('r', bob.id, 0)).toEqual({ readSeq: 1, moved: false });
      expect(await store.moveReadSeq('r', bob.id, 2)).toEqual({ readSeq: 2, moved: true });
      expect(await store.moveReadSeq('r', 'u-nobody', 2)).toEqual({ readSeq: 0, moved: false });
    });

    it('keeps retention and receipts on the room', async () => {
      await store.createRoom(room('kept', { retention: 7, receipts: false }));
      expect(await store.getRoom('kept')).toMatchObject({ retention: 7, receipts: false });
      expect(await store.updateRoom('kept', { retention: null, receipts: true })).toMatchObject({ retention: null, receipts: true });
      expect(await store.getRoom('r')).toMatchObject({ retention: null, receipts: true });
    });

    it('deleting a room deletes its reactions and mentions', async () => {
      await store.append(msg('r', alice, { mentions: [bob.id] }));
      await store.append(change('r', bob, react(1, '👍')));
      await store.deleteRoom('r');
      await store.createRoom(room('r'));
      await store.addMember('r', bob.id, null, 1);
      await store.append(msg('r', alice));
      expect((await store.getMessage('r', 1, { viewer: bob.id }))?.reactions).toBeUndefined();
      expect(await store.unreadOf('r', bob.id, 0)).toEqual({ unread: 1, mentions: 0 });
    });
  });
}
