import { mkdirSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { openSqliteStore, sqliteFile } from '../src/store/sqlite.js';
import { removeDir, tempDir } from './helpers.js';

// A database written before message features (the schema of 5a225f9, copied from its file)
// opens upgraded: its messages are numbered, unread counts stay what they were, and new changes
// apply to old messages.

const OLD_SCHEMA = `
CREATE TABLE "users" ("id" text primary key, "name" text not null, "created_at" integer not null);
CREATE TABLE "rooms" ("id" text primary key, "title" text, "capacity" integer, "visibility" text not null, "persist" integer not null, "direct" integer not null, "owner" text, "created_at" integer not null, "last_seq" integer default 0 not null);
CREATE INDEX "rooms_by_owner" on "rooms" ("owner");
CREATE TABLE "members" ("room_id" text not null, "user_id" text not null, "read_seq" integer default 0 not null, "joined_at" integer not null, constraint "members_pk" primary key ("room_id", "user_id"));
CREATE INDEX "members_by_user" on "members" ("user_id", "room_id");
CREATE TABLE "messages" ("room_id" text not null, "seq" integer not null, "msg_id" text not null, "user_id" text not null, "user_name" text not null, "text" text, "meta" text, "mime" text, "file_name" text, "size" integer, "blob" blob, "ts" integer not null, constraint "messages_pk" primary key ("room_id", "seq"));
CREATE TABLE "sends" ("user_id" text not null, "client_id" text not null, "room_id" text not null, "seq" integer not null, "msg_id" text not null, "ts" integer not null, constraint "sends_pk" primary key ("user_id", "client_id"));
CREATE INDEX "sends_by_ts" on "sends" ("ts");
CREATE TABLE "secrets" ("name" text primary key, "value" text not null);
`;

let dir = '';
afterEach(() => removeDir(dir));

it('upgrades a database of the previous schema in place', async () => {
  dir = tempDir('roomcast-upgrade-');
  mkdirSync(dir, { recursive: true });
  const old = new BetterSqlite3(sqliteFile(dir));
  old.exec(OLD_SCHEMA);
  old.exec(`insert into users values ('u-a', 'Alice', 1), ('u-b', 'Bob', 1);
    insert into rooms values ('old', null, null, 'public', 1, 0, 'u-a', 1, 5), ('pop', null, null, 'public', 0, 0, 'u-a', 1, 3);
    insert into members values ('old', 'u-a', 5, 1), ('old', 'u-b', 2, 1), ('pop', 'u-b', 1, 1);`);
  const insert = old.prepare(`insert into messages (room_id, seq, msg_id, user_id, user_name, text, ts) values ('old', ?, ?, 'u-a', 'Alice', ?, ?)`);
  for (let seq = 1; seq <= 5; seq++) insert.run(seq, `m${seq}`, `message ${seq}`, 1000 + seq);
  old.close();

  const store = await openSqliteStore({ dataDir: dir, sync: 'normal' });
  try {
    const rooms = await store.memberRooms('u-b');
    expect(rooms.find((r) => r.id === 'old')).toMatchObject({ lastSeq: 5, readSeq: 2, unread: 3, mentions: 0, retention: null, receipts: true });
    expect(rooms.find((r) => r.id === 'pop')).toMatchObject({ unread: 2 });
    expect((await store.messagesBefore('old', null, 10)).map((m) => [m.seq, m.kind, m.text])).toEqual([1, 2, 3, 4, 5].map((s) => [s, 'msg', `message ${s}`]));
    await store.append({ room: 'old', persist: true, from: { id: 'u-b', name: 'Bob' }, msgId: 'c1', ts: 2000, change: { kind: 'reaction', target: 3, emoji: '👍', on: true, maxEmoji: 20 } });
    await store.append({ room: 'old', persist: true, from: { id: 'u-a', name: 'Alice' }, msgId: 'n1', ts: 2001, text: 'new', replyTo: 3 });
    expect((await store.getMessage('old', 3, { viewer: 'u-b' }))?.reactions).toEqual([{ emoji: '👍', count: 1, me: true }]);
    expect(await store.unreadOf('old', 'u-b', 2)).toEqual({ unread: 4, mentions: 0 });
    expect((await store.getMessage('old', 7))?.replyTo).toEqual({ seq: 3, from: { id: 'u-a', name: 'Alice' }, text: 'message 3' });
  } finally {
    await store.close();
  }
  // A second start finds nothing to upgrade and changes nothing.
  const again = await openSqliteStore({ dataDir: dir, sync: 'normal' });
  try {
    expect(await again.unreadOf('old', 'u-b', 2)).toEqual({ unread: 4, mentions: 0 });
  } finally {
    await again.close();
  }
});
