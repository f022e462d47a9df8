import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, waitUntil } from '../../../test/wait.js';
import { signBody } from '../src/auth/signature.js';
import { removeDir, startTestServer, tempDir, type TestServer } from './helpers.js';

// docs/integration.md's webhook examples, run as written: the push receiver (verifies, dedupes,
// pushes once per message.unreached) and the five-line signature check.

const DOCS = fileURLToPath(new URL('../../../docs/integration.md', import.meta.url));
const SECRET = 'docs-webhook-secret-0123';
const section = readFileSync(DOCS, 'utf8').split('<!-- A:begin -->')[1]?.split('<!-- A:end -->')[0] ?? '';
const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string);

describe('the webhook examples in docs/integration.md', () => {
  const dir = tempDir();
  let child: ChildProcessWithoutNullStreams;
  let out = '';
  let url = '';
  let server: TestServer;
  beforeAll(async () => {
    expect(blocks.length).toBe(2);
    const file = join(dir, 'push.mjs');
    writeFileSync(file, blocks[0]!);
    child = spawn(process.execPath, [file], { env: { ...process.env, PORT: '0', WEBHOOK_SECRET: SECRET } });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    url = await waitUntil(() => /webhooks on (http:\S+)/.exec(out)?.[1], { what: 'the example receiver', seen: () => out, on: events(child.stdout, 'data') });
    server = await startTestServer({ webhookUrl: url, webhookSecret: SECRET, unreachedDelayMs: 200 });
  });
  afterAll(async () => {
    await server?.close();
    child?.kill();
    removeDir(dir);
  });

  it('pushes once to an offline member, and refuses unsigned requests', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'docs' });
    await bob.ok('join', { room: 'docs' });
    await bob.close();
    for (const text of ['one', 'two', 'three']) await alice.ok('send', { room: 'docs', text });
    await waitUntil(() => out.includes(`push to ${bob.userId}`), { what: 'the push', seen: () => out, on: events(child.stdout, 'data') });
    expect(out).toContain(`push to ${bob.userId}: Alice: 3 new messages`);
    // The same event again (a retry): answered, not pushed twice.
    const body = JSON.stringify({ id: 'evt_same', type: 'message.unreached', ts: Date.now(), data: { user: { id: 'docs-direct-push', name: 'X' }, count: 1, last: { from: { name: 'A' }, preview: 'hi' } } });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(url, { method: 'POST', body, headers: { 'x-roomcast-signature': signBody(SECRET, body) } });
      expect(res.status).toBe(204);
    }
    const unsigned = await fetch(url, { method: 'POST', body, headers: { 'x-roomcast-signature': signBody('another-secret-0123', body) } });
    expect(unsigned.status).toBe(401);
    await waitUntil(() => out.includes('push to docs-direct-push'), { what: 'the direct push', seen: () => out, on: events(child.stdout, 'data') });
    expect(out.split('push to docs-direct-push').length - 1).toBe(1);
  });

  it('verifies with the five-line function', async () => {
    const file = join(dir, 'verify.mjs');
    writeFileSync(file, blocks[1]!);
    const { verify } = (await import(pathToFileURL(file).href)) as { verify: (s: string, h: string | undefined, b: string) => boolean };
    const body = '{"id":"evt_1"}';
    expect(verify(SECRET, signBody(SECRET, body), body)).toBe(true);
    expect(verify(SECRET, signBody(SECRET, body), `${body} `)).toBe(false);
    expect(verify(SECRET, signBody(SECRET, body, Date.now() - 600_000), body)).toBe(false);
    expect(verify(SECRET, undefined, body)).toBe(false);
  });
});
