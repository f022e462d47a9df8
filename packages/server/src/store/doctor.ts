import { existsSync, statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { checkIntegrity, describeError, isDamageError } from './integrity.js';

// `roomcast doctor`: what an operator needs to know about a roomcast.db before serving, restoring
// or throwing it away. Read-only, so it is safe beside a running server.

export interface DoctorReport {
  file: string;
  /** Bytes of the database file, and of its WAL when there is one. */
  size: number;
  walSize: number | null;
  pageSize: number | null;
  pageCount: number | null;
  journalMode: string | null;
  /** null when the table cannot be read. */
  rooms: number | null;
  messages: number | null;
  /** Everything found wrong, as SQLite (or the seq check) put it; empty when healthy. */
  problems: string[];
}

/** Rooms named in the seq check's problems; the count of the others follows. */
const NAMED_ROOMS = 20;

/** Examines a database file: integrity_check, foreign_key_check and roomcast's seq invariant. */
export function examine(file: string): DoctorReport {
  const report: DoctorReport = {
    file,
    size: statSync(file).size,
    walSize: existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : null,
    pageSize: null,
    pageCount: null,
    journalMode: null,
    rooms: null,
    messages: null,
    problems: [],
  };
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  // A running server may hold the write lock for a moment.
  db.pragma('busy_timeout = 5000');
  // Each step on its own: a damaged file may answer some questions and not others.
  const ask = <T>(what: string, f: () => T): T | null => {
    try {
      return f();
    } catch (err) {
      if (!isDamageError(err)) throw err;
      report.problems.push(`${what}: ${describeError(err)}`);
      return null;
    }
  };
  try {
    report.pageCount = ask('opening', () => Number(db.pragma('page_count', { simple: true })));
    // Not even the header reads (not a database): every other question would fail the same way.
    if (report.pageCount === null) return report;
    report.pageSize = Number(db.pragma('page_size', { simple: true }));
    report.journalMode = ask('journal mode', () => String(db.pragma('journal_mode', { simple: true })));
    report.problems.push(...checkIntegrity(db, 'full'));
    for (const row of ask('foreign_key_check', () => db.pragma('foreign_key_check') as Array<{ table: string; rowid: number; parent: string }>) ?? []) {
      report.problems.push(`foreign key: ${row.table} row ${row.rowid} refers to a missing row of ${row.parent}`);
    }
    report.rooms = ask('counting rooms', () => count(db, 'rooms'));
    report.messages = ask('counting messages', () => count(db, 'messages'));
    report.problems.push(...(ask('seq check', () => seqProblems(db)) ?? []));
  } finally {
    db.close();
  }
  return report;
}

function count(db: BetterSqlite3.Database, table: 'rooms' | 'messages'): number {
  return Number(db.prepare(`select count(*) from ${table}`).pluck().get());
}

/**
 * Each kept room numbers its messages without gaps up to `last_seq`, so a room whose stored
 * messages do not run contiguously up to it lost some: the damage SQLite's own checks can miss.
 */
function seqProblems(db: BetterSqlite3.Database): string[] {
  const rows = db
    .prepare(
      'select r.id, r.last_seq, count(m.seq) as n, min(m.seq) as lo, max(m.seq) as hi from rooms r ' +
        'left join messages m on m.room_id = r.id where r.persist = 1 group by r.id, r.last_seq',
    )
    .all() as Array<{ id: string; last_seq: number; n: number; lo: number | null; hi: number | null }>;
  const bad = rows.filter((r) => (r.n === 0 ? r.last_seq !== 0 : r.hi !== r.last_seq || r.n !== Number(r.hi) - Number(r.lo) + 1));
  const out = bad.slice(0, NAMED_ROOMS).map((r) =>
    r.n === 0
      ? `room "${r.id}": last seq is ${r.last_seq} but no message is stored`
      : `room "${r.id}": last seq is ${r.last_seq} but ${r.n} messages are stored, seq ${r.lo} to ${r.hi}`,
  );
  if (bad.length > NAMED_ROOMS) out.push(`… and ${bad.length - NAMED_ROOMS} more rooms with missing messages`);
  return out;
}

/** The report as printed: one fact a line, then each problem, then the verdict. */
export function formatReport(r: DoctorReport): string {
  const known = <T>(v: T | null) => (v === null ? 'unreadable' : String(v));
  const lines = [
    `file:         ${r.file}`,
    `size:         ${r.size} bytes${r.walSize !== null ? ` (+ ${r.walSize} bytes of WAL)` : ''}`,
    `pages:        ${r.pageCount === null ? 'unreadable' : `${r.pageCount} of ${known(r.pageSize)} bytes`}`,
    `journal mode: ${known(r.journalMode)}`,
    `rooms:        ${known(r.rooms)}`,
    `messages:     ${known(r.messages)}`,
  ];
  for (const p of r.problems) lines.push(`problem:      ${p}`);
  lines.push(
    r.problems.length === 0
      ? 'healthy: integrity_check, foreign_key_check and the seq check found nothing wrong'
      : `damaged: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}. Stop the server and restore the file from a backup ` +
          '(made with "roomcast backup"); see docs/deployment.md, "Backups and damaged databases"',
  );
  return `${lines.join('\n')}\n`;
}
