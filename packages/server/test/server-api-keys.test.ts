import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { startServer } from '../src/server.js';
import { ApiKeyError, ApiKeys, loadApiKeys, parseApiKeys } from '../src/http/api-keys.js';
import { serversPerTest, tempDir } from './helpers.js';
import { caller, READ_KEY } from './server-api-kit.js';

// The --api-keys file: what it accepts, what it refuses (with what to fix), and that a server
// with only a keys file (no --api-key) serves the API to those keys.

describe('--api-keys', () => {
  it('parses names, scopes and sha256: hashes, and matches keys', () => {
    const keys = new ApiKeys(parseApiKeys(JSON.stringify([{ name: 'a', key: 'a-key-of-16-chars!', scope: 'read' }, { name: 'b', key: `sha256:${'ab'.repeat(32)}`, scope: 'admin' }]), 'test'));
    expect(keys.match('a-key-of-16-chars!')).toMatchObject({ name: 'a', scope: 'read' });
    expect(keys.match('another-key-0000000')).toBeNull();
    expect(loadApiKeys('the-api-key-0123456789', '').match('the-api-key-0123456789')).toMatchObject({ name: 'api-key', scope: 'admin' });
  });

  it('refuses a file that is not right, saying what to fix', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{}, /JSON array/],
      [[{ name: 'x y', key: 'k'.repeat(16), scope: 'read' }], /"name" must be/],
      [[{ name: 'x', key: 'k'.repeat(16), scope: 'write' }], /"scope" must be "read", "publish" or "admin"/],
      [[{ name: 'x', key: 'short', scope: 'read' }], /at least 16 characters/],
      [[{ name: 'x', key: 'sha256:abc', scope: 'read' }], /64 hex digits/],
      [[{ name: 'x', key: 'k'.repeat(16), scope: 'read' }, { name: 'x', key: 'j'.repeat(16), scope: 'read' }], /used twice/],
    ];
    for (const [value, message] of bad) expect(() => parseApiKeys(JSON.stringify(value), 'f'), JSON.stringify(value)).toThrow(message);
    expect(() => parseApiKeys('{not json', 'f')).toThrow(ApiKeyError);
    expect(() => loadApiKeys('', join(tempDir(), 'missing.json'))).toThrow(/cannot read --api-keys/);
  });

  const start = serversPerTest();
  it('serves the API with a keys file alone, and a server with a bad file does not start', async () => {
    const dir = tempDir();
    const good = join(dir, 'keys.json');
    writeFileSync(good, JSON.stringify([{ name: 'reader', key: READ_KEY, scope: 'read' }]));
    const server = await start({ apiKeys: good, httpRate: 0 });
    const call = caller(server, READ_KEY);
    expect((await call('/api/rooms')).status).toBe(200);
    expect((await call('/api/rooms/x/messages')).status).toBe(404);
    expect((await call('/api/rooms/x/messages', { method: 'POST', body: { text: 'x' } })).status).toBe(403);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '[{"name": "a"}]');
    await expect(start({ apiKeys: broken })).rejects.toThrow(/--api-keys .*entry 1/);
  });
});

describe('a start that fails', () => {
  it('closes what it had opened: no database connection is left (a bad --api-keys file on PostgreSQL)', async () => {
    const postgresUrl = await freshDatabase(inject('pgUrl'), 'failedstart');
    const name = new URL(postgresUrl).pathname.slice(1);
    const broken = join(tempDir(), 'broken.json');
    writeFileSync(broken, '[{"name": "a"}]');
    // The store opened (and migrated the schema) before the keys file was read.
    await expect(startServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', postgresUrl, apiKeys: broken })).rejects.toThrow(/--api-keys/);
    const admin = new pg.Client({ connectionString: inject('pgUrl') });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [name]);
      expect(Number(rows[0]?.n)).toBe(0);
    } finally {
      await admin.end();
    }
  });
});
