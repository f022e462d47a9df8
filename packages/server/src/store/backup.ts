import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { checkIntegrity } from './integrity.js';

// `roomcast backup`: a consistent copy of a live database through SQLite's online backup API.
// The source is opened read-only; in WAL mode the server keeps writing while the copy is read.

export interface BackupResult {
  target: string;
  bytes: number;
  pages: number;
  /** null when the copy is damaged (then they are not counted). */
  rooms: number | null;
  messages: number | null;
  /** What quick_check found in the copy; empty when it is sound. */
  problems: string[];
}

/**
 * The backup copies in steps, and restarts whenever another connection (the server) commits
 * between two steps: under steady writes small steps might never finish. One step of every page
 * reads one snapshot, all of it committed before the step began.
 */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies `source` to `target` (which the caller made sure may be replaced), then checks the
 * copy. It is written beside `target` under another name and renamed into place, so `target`
 * never holds half a copy.
 */
export async function backupDatabase(source: string, target: string): Promise<BackupResult> {
  const partial = `${target}.partial-${process.pid}`;
  removeDatabase(partial);
  const src = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
  try {
    src.pragma('busy_timeout = 5000');
    await src.backup(partial, { progress: () => ALL_PAGES });
  } catch (err) {
    removeDatabase(partial);
    throw err;
  } finally {
    src.close();
  }
  // Read-write, so closing it removes the -wal and -shm files that opening a WAL copy makes.
  const copy = new BetterSqlite3(partial, { fileMustExist: true });
  let result: BackupResult;
  try {
    const problems = checkIntegrity(copy, 'quick');
    const counted = (table: 'rooms' | 'messages') => (problems.length > 0 ? null : Number(copy.prepare(`select count(*) from ${table}`).pluck().get()));
    result = {
      target,
      bytes: 0,
      pages: Number(copy.pragma('page_count', { simple: true })),
      rooms: counted('rooms'),
      messages: counted('messages'),
      problems,
    };
  } finally {
    copy.close();
  }
  durable(partial);
  removeDatabase(target);
  renameSync(partial, target);
  durable(dirname(target));
  result.bytes = statSync(target).size;
  return result;
}

/** A database file with the WAL and shared-memory files that belong to it. */
export function removeDatabase(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) rmSync(f, { force: true });
}

/** fsync, so the copy (and its name in the directory) survive a power loss right after. */
function durable(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
