import { closeSync, cpSync, existsSync, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import BetterSqlite3 from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import { startTestServer, tempDir } from './helpers.js';

// Shared by the damaged-database tests: a data directory holding a room of messages written by
// a real server, a way to garble its file the way a failing disk does, and a readable log.

export const ROOM = 'lobby';

export interface Fixture {
  dir: string;
  /** Alice's guest token: she created the room and wrote every message. */
  guestToken: string;
}

/** A data directory with one room of `count` messages, sent through a real server and closed. */
export async function roomWithMessages(count: number, text = (i: number) => `message ${i}`): Promise<Fixture> {
  const dir = tempDir('roomcast-damage-');
  const server = await startTestServer({ dataDir: dir, ratePerSec: 0 });
  const alice = await server.connect({ name: 'Alice' });
  await alice.ok('create', { room: ROOM });
  const replies = await Promise.all(Array.from({ length: count }, (_, i) => alice.request('send', { room: ROOM, text: text(i + 1) })));
  if (!replies.every((r) => r.ok)) throw new Error('fixture: a send failed');
  await alice.close();
  await server.close();
  // Everything in the main file, so garbling it reaches every page (no WAL frame shadows one).
  const db = new BetterSqlite3(join(dir, 'roomcast.db'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  if (existsSync(join(dir, 'roomcast.db-wal')) && statSync(join(dir, 'roomcast.db-wal')).size > 0) throw new Error('fixture: WAL left over');
  return { dir, guestToken: alice.welcome.guestToken as string };
}

/** A fresh copy of a fixture's directory, so each test damages its own. */
export function copyOf(f: Fixture): string {
  const dir = tempDir('roomcast-damage-');
  cpSync(f.dir, dir, { recursive: true });
  return dir;
}

/** The page size from the database header (bytes 16-17, big-endian; 1 means 65,536). */
export function pageSize(file: string): number {
  const head = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  const size = head.readUInt16BE(16);
  return size === 1 ? 65_536 : size;
}

/**
 * Overwrites every page from page `first` (1-based) to the end with fixed pseudo-random bytes,
 * except the schema's own pages (sqlite_schema outgrows page 1 as tables are added): what is
 * garbled is the data, and the file still opens, as when a disk fails under the rows.
 */
export function garbleFrom(file: string, first: number): void {
  const size = pageSize(file);
  const db = new BetterSqlite3(file, { readonly: true });
  const schemaPages = new Set(db.prepare("select pageno from dbstat where name = 'sqlite_schema'").pluck().all() as number[]);
  db.close();
  const fd = openSync(file, 'r+');
  try {
    const pages = Math.ceil(fstatSync(fd).size / size);
    const junk = Buffer.alloc(size);
    let x = 0x2545f491;
    for (let page = first; page <= pages; page++) {
      for (let i = 0; i < size; i++) {
        // xorshift32: the same bytes every run, so a failure reproduces.
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        junk[i] = x & 0xff;
      }
      if (!schemaPages.has(page)) writeSync(fd, junk, 0, size, (page - 1) * size);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Damage that SQLite reads without an error: every leaf page of the messages' (room_id, seq)
 * index claims half the cells it holds, so queries skip messages, and the pages still parse.
 */
export function halveIndexLeaves(file: string): void {
  const size = pageSize(file);
  const ro = new BetterSqlite3(file, { readonly: true });
  const pages = ro.prepare("select pageno from dbstat where name = 'sqlite_autoindex_messages_1' and pagetype = 'leaf'").pluck().all() as number[];
  ro.close();
  const fd = openSync(file, 'r+');
  try {
    const page = Buffer.alloc(size);
    for (const n of pages) {
      readSync(fd, page, 0, size, (n - 1) * size);
      // The b-tree page header's cell count: bytes 3-4 (page 1 has the file header first).
      page.writeUInt16BE(Math.floor(page.readUInt16BE(3) / 2), 3);
      writeSync(fd, page, 0, size, (n - 1) * size);
    }
  } finally {
    closeSync(fd);
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger whose JSON lines the test can read. */
export function capturedLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

/** pino's fatal level. */
export const FATAL = 60;
