import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, tempDir } from './helpers.js';
import { copyOf, garbleFrom, ROOM, roomWithMessages, type Fixture } from './sqlite-damage.js';

// `roomcast doctor` and `roomcast backup`, as the built command runs them in a child process.
const BIN = fileURLToPath(new URL('../bin/roomcast.js', import.meta.url));
const MESSAGES = 2000;

function roomcast(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
}

/** The same, without blocking this process: a server in it keeps serving meanwhile. */
async function roomcastAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr };
}

let fixture: Fixture;
const dirs: string[] = [];
beforeAll(async () => {
  fixture = await roomWithMessages(MESSAGES);
  dirs.push(fixture.dir);
}, 60_000);
afterAll(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function scratch(): string {
  const d = tempDir('roomcast-cli-db-');
  dirs.push(d);
  return d;
}

describe('roomcast doctor', () => {
  it('reports a healthy database with exit code 0', () => {
    const res = roomcast('doctor', fixture.dir);
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const out = res.stdout;
    expect(out).toContain(`file:         ${join(fixture.dir, 'roomcast.db')}`);
    expect(out).toMatch(/^size: +\d+ bytes/m);
    expect(out).toMatch(/^pages: +\d+ of 4096 bytes$/m);
    expect(out).toMatch(/^journal mode: wal$/m);
    expect(out).toMatch(/^rooms: +1$/m);
    expect(out).toMatch(new RegExp(`^messages: +${MESSAGES}$`, 'm'));
    expect(out).not.toContain('problem:');
    expect(out).toMatch(/^healthy: /m);
  });

  it('lists what SQLite found in a garbled database, with exit code 1', () => {
    const dir = copyOf(fixture);
    dirs.push(dir);
    garbleFrom(join(dir, 'roomcast.db'), 5);
    const res = roomcast('doctor', dir);
    expect(res.status).toBe(1);
    expect(res.stdout).toMatch(/^journal mode: wal$/m);
    expect(res.stdout).toMatch(/^messages: +unreadable$/m);
    expect(res.stdout).toMatch(/^problem: +.*(page|SQLITE_CORRUPT)/m);
    expect(res.stdout).toMatch(/^damaged: \d+ problems?\. .*roomcast backup/m);
  });

  it('finds messages missing from a room even where SQLite sees nothing wrong', () => {
    const dir = copyOf(fixture);
    dirs.push(dir);
    // What the outside tester saw served: 46 of the room's messages. The file itself is sound.
    const db = new BetterSqlite3(join(dir, 'roomcast.db'));
    db.prepare('delete from messages where room_id = ? and seq > 46').run(ROOM);
    db.close();
    const res = roomcast('doctor', dir);
    expect(res.status).toBe(1);
    expect(res.stdout).toContain(`problem:      room "${ROOM}": last seq is ${MESSAGES} but 46 messages are stored, seq 1 to 46`);
    expect(res.stdout).toMatch(/^damaged: 1 problem\./m);
  });

  it('refuses bad usage with exit code 2', () => {
    const none = roomcast('doctor');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('doctor needs the data directory');
    const missing = roomcast('doctor', join(scratch(), 'nope'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no such directory or file');
    const empty = roomcast('doctor', scratch());
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('roomcast.db does not exist');
  }, 60_000);

  it('reads a file that is not a database, with exit code 1', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'roomcast.db'), Buffer.alloc(8192, 0x41));
    const res = roomcast('doctor', dir);
    expect(res.status).toBe(1);
    expect(res.stdout).toMatch(/^problem: +opening: SQLITE_NOTADB/m);
  });
});

describe('roomcast backup', () => {
  it('copies a database a server is writing to: the copy is sound and holds every acknowledged message', async () => {
    const server = await startTestServer({ ratePerSec: 0 });
    dirs.push(server.dataDir);
    try {
      const alice = await server.connect({ name: 'Alice' });
      await alice.ok('create', { room: ROOM });
      const text = 'x'.repeat(500);
      await Promise.all(Array.from({ length: MESSAGES }, () => alice.request('send', { room: ROOM, text })));

      // A reader on an old snapshot keeps checkpoints from copying newer pages into the main
      // file: what follows is in the WAL only, where a plain copy of roomcast.db would miss it.
      const pin = new BetterSqlite3(join(server.dataDir, 'roomcast.db'), { readonly: true });
      pin.exec('begin');
      pin.prepare('select count(*) from rooms').get();

      // Four writers that never stop, each waiting for its ack before the next send.
      const acked: number[] = [];
      let stop = false;
      const writers = Array.from({ length: 4 }, async () => {
        while (!stop) {
          const r = await alice.request('send', { room: ROOM, text });
          if (r.ok) acked.push(r.seq as number);
        }
      });
      while (acked.length < 50) await alice.barrier();

      const target = join(scratch(), 'copy.db');
      const before = Math.max(...acked);
      const ackedBefore = acked.length;
      const [res, doctor] = await Promise.all([roomcastAsync('backup', server.dataDir, target), roomcastAsync('doctor', server.dataDir)]);
      const ackedDuring = acked.length - ackedBefore;
      stop = true;
      await Promise.all(writers);
      pin.exec('rollback');
      pin.close();

      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`^wrote ${target} \\(\\d+ bytes, \\d+ pages\\), a copy of .*roomcast\\.db: rooms 1, messages \\d+; quick_check: ok\\n$`));
      // The server kept acknowledging messages while the copy was made.
      expect(ackedDuring).toBeGreaterThan(0);
      expect(doctor.status).toBe(0);

      // Checked in the copy, closed, with no WAL of its own left beside it.
      expect(existsSync(`${target}-wal`)).toBe(false);
      const copy = new BetterSqlite3(target, { readonly: true });
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        const seqs = copy.prepare('select seq from messages where room_id = ? order by seq').pluck().all(ROOM) as number[];
        const lastSeq = copy.prepare('select last_seq from rooms where id = ?').pluck().get(ROOM) as number;
        // One snapshot: every message up to the room's last seq, none missing, and at least
        // every one acknowledged before the backup started.
        expect(seqs).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
        expect(lastSeq).toBeGreaterThanOrEqual(before);
      } finally {
        copy.close();
      }
      await alice.close();
    } finally {
      await server.close();
    }
  }, 60_000);

  it('refuses to overwrite a file unless --force, and refuses bad usage with exit code 2', () => {
    const out = scratch();
    const target = join(out, 'copy.db');
    expect(roomcast('backup', fixture.dir, target).status).toBe(0);
    const again = roomcast('backup', fixture.dir, target);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('exists; pass --force to replace it');
    const forced = roomcast('backup', fixture.dir, target, '--force');
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain(`rooms 1, messages ${MESSAGES}; quick_check: ok`);

    const itself = roomcast('backup', fixture.dir, join(fixture.dir, 'roomcast.db'), '--force');
    expect(itself.status).toBe(2);
    expect(itself.stderr).toContain('is the database itself');
    expect(roomcast('backup', join(out, 'nope'), join(out, 'x.db')).status).toBe(2);
    expect(roomcast('backup', fixture.dir, join(out, 'no-dir', 'x.db')).status).toBe(2);
    expect(roomcast('backup', fixture.dir).status).toBe(2);
  }, 60_000);

  it('says so when the copy of a damaged database is damaged too, with exit code 1', () => {
    const dir = copyOf(fixture);
    dirs.push(dir);
    garbleFrom(join(dir, 'roomcast.db'), 5);
    const out = scratch();
    mkdirSync(out, { recursive: true });
    const res = roomcast('backup', dir, join(out, 'copy.db'));
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/the copy is damaged/);
  });
});
