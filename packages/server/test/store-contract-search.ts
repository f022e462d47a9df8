import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserRef } from '@roomcast/protocol';
import type { AppendInput, ChangeInput, SearchQuery, Store } from '../src/store/store.js';
import { newRoom, type StoreHarness } from './store-contract.js';

// The Store contract for `search` and retention (`pruneMessages`). Run by every implementation;
// only the Store interface is used, and every row is made through it.

const alice: UserRef = { id: 'u-alice', name: 'Alice' };
const bob: UserRef = { id: 'u-bob', name: 'Bob' };

const DAY = 24 * 60 * 60 * 1000;
const NOW = 1000 * DAY;

const room = newRoom;

let counter = 0;
const msg = (r: string, text: string, patch: Partial<AppendInput> = {}): AppendInput => {
  counter++;
  return { room: r, persist: true, from: alice, msgId: `s-${counter}`, text, ts: 10_000 + counter, ...patch };
};
const change = (r: string, c: ChangeInput, ts: number, from: UserRef = alice): AppendInput => ({ room: r, persist: true, from, msgId: `sc-${++counter}`, ts, change: c });

export function searchContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`Store contract, search and retention: ${name}`, () => {
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

    /** Creates rooms with the given members. */
    async function rooms(members: UserRef[], ...ids: string[]): Promise<void> {
      for (const id of ids) {
        expect(await store.createRoom(room(id))).toBe(true);
        for (const u of members) await store.addMember(id, u.id, null, 1);
      }
    }

    const find = async (q: string, patch: Partial<SearchQuery> = {}) =>
      (await store.search({ userId: alice.id, q, limit: 50, ...patch })).map((m) => ({ room: m.room, seq: m.seq, text: m.text }));
    const texts = async (q: string, patch: Partial<SearchQuery> = {}) => (await find(q, patch)).map((m) => m.text);

    describe('search', () => {
      it('finds any substring of Chinese text, and English words in any case', async () => {
        await rooms([alice], 'r');
        for (const t of ['大家你好啊', '你们好', 'Deploy at five', 'we DEPLOY now', 'redeployment done', 'deplo y'])
          await store.append(msg('r', t));
        expect(await texts('你好')).toEqual(['大家你好啊']);
        expect(await texts('好')).toEqual(['你们好', '大家你好啊']);
        expect(await texts('deploy')).toEqual(['redeployment done', 'we DEPLOY now', 'Deploy at five']);
        expect(await texts('DePlOy AT')).toEqual(['Deploy at five']);
        expect(await texts('nowhere')).toEqual([]);
      });

      it("matches LIKE's wildcards and its escape character literally", async () => {
        await rooms([alice], 'r');
        for (const t of ['100% sure', '1000 sure', 'a_b', 'axb', 'back\\slash', 'backslash', 'back\\%slash']) await store.append(msg('r', t));
        expect(await texts('0%')).toEqual(['100% sure']);
        expect(await texts('%')).toEqual(['back\\%slash', '100% sure']);
        expect(await texts('a_b')).toEqual(['a_b']);
        expect(await texts('_')).toEqual(['a_b']);
        expect(await texts('\\')).toEqual(['back\\%slash', 'back\\slash']);
        expect(await texts('k\\s')).toEqual(['back\\slash']);
        expect(await texts('\\%')).toEqual(['back\\%slash']);
      });

      it("never searches a room the user is not a member of, even when asked for it", async () => {
        await rooms([alice, bob], 'shared');
        await rooms([bob], 'bobs');
        await store.append(msg('shared', 'secret plan A'));
        await store.append(msg('bobs', 'secret plan B', { from: bob }));
        expect(await texts('secret')).toEqual(['secret plan A']);
        expect(await texts('secret', { room: 'bobs' })).toEqual([]);
        expect(await texts('secret', { userId: bob.id })).toEqual(['secret plan B', 'secret plan A']);
        // A member who left is not a member: their old rooms are not searched.
        await store.removeMember('shared', alice.id);
        expect(await texts('secret')).toEqual([]);
      });

      it('searches one room when asked, and each hit says its room', async () => {
        await rooms([alice], 'a', 'b');
        await store.append(msg('a', 'note one'));
        await store.append(msg('b', 'note two'));
        expect(await find('note')).toEqual([
          { room: 'b', seq: 1, text: 'note two' },
          { room: 'a', seq: 1, text: 'note one' },
        ]);
        expect(await find('note', { room: 'a' })).toEqual([{ room: 'a', seq: 1, text: 'note one' }]);
      });

      it('orders hits by ts then seq, newest first, and pages with limit and before', async () => {
        await rooms([alice], 'a', 'b');
        await store.append(msg('a', 'hit 1', { ts: 100 }));
        await store.append(msg('b', 'hit 2', { ts: 300 }));
        await store.append(msg('a', 'hit 3', { ts: 200 }));
        await store.append(msg('a', 'hit 4', { ts: 300 }));
        await store.append(msg('a', 'miss', { ts: 400 }));
        // ts 300 twice: room a's is seq 3, room b's seq 1, so a's comes first.
        expect(await texts('hit')).toEqual(['hit 4', 'hit 2', 'hit 3', 'hit 1']);
        expect(await texts('hit', { limit: 2 })).toEqual(['hit 4', 'hit 2']);
        expect(await texts('hit', { before: 300 })).toEqual(['hit 3', 'hit 1']);
        expect(await texts('hit', { before: 300, limit: 1 })).toEqual(['hit 3']);
        expect(await texts('hit', { before: 100 })).toEqual([]);
      });

      it('finds edited messages by their text now, never unsent ones, change events or files', async () => {
        await rooms([alice, bob], 'r');
        await store.append(msg('r', 'draft wording')); // 1
        await store.append(msg('r', 'take this back')); // 2
        await store.append(msg('r', 'keep wording')); // 3
        await store.append(msg('r', '', { text: undefined, binary: { mime: 'text/plain', name: 'wording.txt', data: new TextEncoder().encode('wording') } })); // 4
        await store.append(change('r', { kind: 'edit', target: 1, text: 'final text', windowMs: 0 }, 20_000)); // 5
        await store.append(change('r', { kind: 'unsend', target: 2, windowMs: 0, moderator: false }, 20_001)); // 6
        await store.append(change('r', { kind: 'reaction', target: 3, emoji: '👍', on: true, maxEmoji: 20 }, 20_002, bob)); // 7
        expect(await texts('wording')).toEqual(['keep wording']);
        expect(await find('final')).toEqual([{ room: 'r', seq: 1, text: 'final text' }]);
        expect(await texts('back')).toEqual([]);
        // Hits are messages as they are now, reactions included (`me` for the searching user).
        const [hit] = await store.search({ userId: alice.id, q: 'keep', limit: 5 });
        expect(hit).toMatchObject({ kind: 'msg', seq: 3, reactions: [{ emoji: '👍', count: 1, me: false }] });
        const [bobs] = await store.search({ userId: bob.id, q: 'keep', limit: 5 });
        expect(bobs?.reactions).toEqual([{ emoji: '👍', count: 1, me: true }]);
      });
    });

    describe('pruneMessages', () => {
      /** A message `days` old at NOW in room `r`. */
      const aged = (r: string, days: number, text = `${days} days old`, patch: Partial<AppendInput> = {}) => msg(r, text, { ts: Math.round(NOW - days * DAY), ...patch });
      const stream = async (r: string) => (await store.messagesAfter(r, 0, 10_000)).map((m) => `${m.kind} ${m.seq}`);

      it("deletes what is older than the room's retention, or the default for rooms without one", async () => {
        await store.createRoom(room('short', { retention: 1 }));
        await store.createRoom(room('long', { retention: 10 }));
        await store.createRoom(room('plain'));
        for (const r of ['short', 'long', 'plain']) for (const days of [20, 5, 2, 0.5]) await store.append(aged(r, days));
        // Default 0: rooms without a retention keep everything.
        expect(await store.pruneMessages(NOW, 0)).toBe(3 + 1);
        expect(await stream('short')).toEqual(['msg 4']);
        expect(await stream('long')).toEqual(['msg 2', 'msg 3', 'msg 4']);
        expect(await stream('plain')).toEqual(['msg 1', 'msg 2', 'msg 3', 'msg 4']);
        expect(await store.pruneMessages(NOW, 0)).toBe(0);
        // A default of 3 days reaches the plain room; a room's own retention still wins over it.
        expect(await store.pruneMessages(NOW, 3)).toBe(2);
        expect(await stream('plain')).toEqual(['msg 3', 'msg 4']);
        expect(await stream('long')).toEqual(['msg 2', 'msg 3', 'msg 4']);
        // Exactly at the age is not older.
        expect(await store.pruneMessages(NOW + 0.5 * DAY, 3)).toBe(0);
        expect(await store.pruneMessages(NOW + 0.5 * DAY + 1, 3)).toBe(1);
        expect(await stream('short')).toEqual([]);
        // The seq counter is not reset: new messages continue after the deleted ones.
        const next = await store.append(msg('short', 'new', { ts: NOW }));
        expect(next.seq).toBe(5);
      });

      it('deletes change events that old, and the reactions and mentions of deleted messages', async () => {
        await store.createRoom(room('r', { retention: 7 }));
        for (const u of [alice, bob]) await store.addMember('r', u.id, null, 1);
        await store.append(aged('r', 30, 'old, for bob', { mentions: [bob.id] })); // 1
        await store.append(aged('r', 20, 'old too')); // 2
        await store.append(change('r', { kind: 'reaction', target: 1, emoji: '🎉', on: true, maxEmoji: 20 }, NOW - 10 * DAY, bob)); // 3
        await store.append(change('r', { kind: 'edit', target: 2, text: 'old, edited', windowMs: 0 }, NOW - 9 * DAY)); // 4
        await store.append(aged('r', 1, 'new, for bob', { mentions: [bob.id] })); // 5
        await store.append(change('r', { kind: 'reaction', target: 2, emoji: '👀', on: true, maxEmoji: 20 }, NOW - 1 * DAY, bob)); // 6
        expect(await store.unreadOf('r', bob.id, 0)).toEqual({ unread: 3, mentions: 2 });
        expect(await store.pruneMessages(NOW, 0)).toBe(4);
        // The reaction to a deleted message made yesterday is younger than 7 days: it stays.
        expect(await stream('r')).toEqual(['msg 5', 'reaction 6']);
        expect(await store.unreadOf('r', bob.id, 0)).toEqual({ unread: 1, mentions: 1 });
        expect(await texts('old')).toEqual([]);
        const [kept] = await store.search({ userId: bob.id, q: 'new', limit: 5 });
        expect(kept).toMatchObject({ seq: 5, mentions: [bob.id] });
      });

      it('deletes a long history in batches, and leaves ephemeral rooms and younger messages alone', async () => {
        await store.createRoom(room('big', { retention: 1 }));
        await store.createRoom(room('eph', { persist: false, retention: 1 }));
        const old = 2_345;
        const appends: Array<Promise<unknown>> = [];
        for (let i = 0; i < old; i++) appends.push(store.append(aged('big', 3 - i / old, `old ${i}`)));
        for (let i = 0; i < 3; i++) appends.push(store.append(aged('big', 0.5 - i / 10, `new ${i}`)));
        appends.push(store.append({ ...aged('eph', 30), persist: false }));
        await Promise.all(appends);
        expect(await store.pruneMessages(NOW, 0)).toBe(old);
        expect(await stream('big')).toEqual([`msg ${old + 1}`, `msg ${old + 2}`, `msg ${old + 3}`]);
        expect(await store.getRoom('eph')).toMatchObject({ lastSeq: 1 });
      });
    });
  });
}
