import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { UserRef } from '@roomcast/protocol';
import { pruneMessages } from '../src/store/retention.js';
import type { Database, SqlDialectName } from '../src/store/schema.js';
import { likePattern, searchMessages } from '../src/store/sql-search.js';
import { SqlStore } from '../src/store/sql-store.js';
import type { AppendInput, NewRoom, SearchQuery } from '../src/store/store.js';
import { freshDatabase } from '../../../test/pg.js';

// What the store contract cannot see, on both engines: search walks the ts index a window at a
// time (made tiny here, so windows end inside runs of equal ts) and must return exactly what one
// query would; and retention leaves no reactions or mentions rows behind.

const me: UserRef = { id: 'u-me', name: 'Me' };
const other: UserRef = { id: 'u-other', name: 'Other' };

const room = (id: string, patch: Partial<NewRoom> = {}): NewRoom => ({
  id,
  title: null,
  capacity: null,
  visibility: 'public',
  persist: true,
  direct: false,
  owner: me.id,
  createdAt: 1,
  retention: null,
  receipts: true,
  ...patch,
});

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Kysely of the engine, on an empty database. */
async function openDb(dialect: SqlDialectName): Promise<Kysely<Database>> {
  if (dialect === 'sqlite') return new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
  const pool = new pg.Pool({ connectionString: await freshDatabase(inject('pgUrl')) });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

describe.each(['sqlite', 'postgres'] as const)('search and retention below the Store: %s', (dialect) => {
  let db: Kysely<Database>;
  let store: SqlStore;

  beforeEach(async () => {
    db = await openDb(dialect);
    store = new SqlStore(db, dialect);
    await store.migrate();
    await store.upsertUser(me);
    await store.upsertUser(other);
  });

  afterEach(async () => {
    await store.close();
  });

  it('escapes the wildcards of LIKE', () => {
    expect(likePattern('a%b_c\\d')).toBe('%a\\%b\\_c\\\\d%');
  });

  it('walking the ts index window by window finds what one query finds', async () => {
    const rnd = random(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
    for (const id of ['mine', 'also-mine', 'theirs']) await store.createRoom(room(id));
    await store.addMember('mine', me.id, null, 1);
    await store.addMember('also-mine', me.id, null, 1);
    await store.addMember('theirs', other.id, null, 1);
    const words = ['你好', '大家', 'Deploy', 'deploy', 'x%y', 'a_b', 'lunch'];
    const inputs: AppendInput[] = [];
    for (let i = 0; i < 240; i++) {
      const text = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(words)).join(' ');
      // Few distinct times, so many messages share one and windows end inside such runs.
      inputs.push({ room: pick(['mine', 'also-mine', 'theirs']), persist: true, from: me, msgId: `m${i}`, text, ts: 1000 + Math.floor(rnd() * 40) });
    }
    await Promise.all(inputs.map((input) => store.append(input)));
    // Some taken back: those are never found.
    for (let seq = 1; seq <= 20; seq += 3) await store.append({ room: 'mine', persist: true, from: me, msgId: `u${seq}`, ts: 2000, change: { kind: 'unsend', target: seq, windowMs: 0, moderator: false } });
    const queries: SearchQuery[] = [];
    for (const q of ['你好', 'deploy', 'DEPLOY', '%', '_', 'nothing']) {
      for (const limit of [1, 7, 500]) {
        queries.push({ userId: me.id, q, limit });
        queries.push({ userId: me.id, q, limit, before: 1020 });
        queries.push({ userId: me.id, q, limit, room: 'also-mine' });
        queries.push({ userId: me.id, q, limit, room: 'theirs' });
      }
    }
    const key = (r: { room_id: string; seq: number }) => `${r.room_id}#${Number(r.seq)}`;
    for (const query of queries) {
      const whole = (await searchMessages(db, dialect, query, 1_000_000)).map(key);
      for (const window of [1, 3, 50]) {
        expect((await searchMessages(db, dialect, query, window)).map(key), `${JSON.stringify(query)}, window ${window}`).toEqual(whole);
      }
    }
    // And one query finds what it should: checked against the rows themselves.
    const rows = await db.selectFrom('messages').selectAll().execute();
    const expected = rows
      .filter((r) => r.kind === 'msg' && Number(r.unsent) === 0 && r.room_id !== 'theirs' && (r.text ?? '').toLowerCase().includes('deploy'))
      .sort((a, b) => Number(b.ts) - Number(a.ts) || Number(b.seq) - Number(a.seq) || (a.room_id < b.room_id ? 1 : -1))
      .map(key);
    expect(expected.length).toBeGreaterThan(30);
    expect((await searchMessages(db, dialect, { userId: me.id, q: 'deploy', limit: 1000 }, 3)).map(key)).toEqual(expected);
  });

  it('retention leaves no reactions or mentions rows of the deleted messages', async () => {
    await store.createRoom(room('r', { retention: 1 }));
    for (const u of [me, other]) await store.addMember('r', u.id, null, 1);
    const day = 24 * 60 * 60 * 1000;
    const now = 100 * day;
    await store.append({ room: 'r', persist: true, from: me, msgId: 'a', text: 'old', ts: now - 3 * day, mentions: [other.id] });
    await store.append({ room: 'r', persist: true, from: other, msgId: 'b', ts: now - 2 * day, change: { kind: 'reaction', target: 1, emoji: '👍', on: true, maxEmoji: 20 } });
    await store.append({ room: 'r', persist: true, from: me, msgId: 'c', text: 'new', ts: now, mentions: [other.id] });
    await store.append({ room: 'r', persist: true, from: other, msgId: 'd', ts: now, change: { kind: 'reaction', target: 3, emoji: '👍', on: true, maxEmoji: 20 } });
    const count = async (table: 'reactions' | 'mentions' | 'messages') =>
      Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    expect([await count('messages'), await count('reactions'), await count('mentions')]).toEqual([4, 2, 2]);
    expect(await pruneMessages(db, now, 0)).toBe(2);
    expect([await count('messages'), await count('reactions'), await count('mentions')]).toEqual([2, 1, 1]);
  });
});
