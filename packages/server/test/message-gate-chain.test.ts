import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, waitUntil } from '../../../test/wait.js';
import type { GateInput } from '../src/core/message-gate.js';
import { startServer, type RoomcastServer } from '../src/server.js';
import { TestClient, tempDir } from './helpers.js';
import { answer, hookPerSuite } from './hook-server.js';

// The whole chain: filter → hook URL → in-process beforeMessage, each seeing the text the one
// before let through; and the receiver example of docs/integration.md, run as written.

const DOCS = fileURLToPath(new URL('../../../docs/integration.md', import.meta.url));

async function pair(url: string, room: string): Promise<{ alice: TestClient; bob: TestClient }> {
  const alice = await TestClient.connect(url, { name: 'Alice' });
  const bob = await TestClient.connect(url, { name: 'Bob' });
  await alice.ok('create', { room });
  await bob.ok('join', { room });
  return { alice, bob };
}

describe('the chain', () => {
  const hook = hookPerSuite();
  let server: RoomcastServer;
  const seen: GateInput[] = [];
  beforeAll(async () => {
    const words = join(tempDir(), 'words.txt');
    writeFileSync(words, 'darn\n');
    const options = { port: 0, host: '127.0.0.1', dataDir: tempDir(), logLevel: 'silent' as const, ratePerSec: 0, filterWords: words, hookUrl: hook.url, hookFail: 'closed' as const };
    server = await startServer(options, pino({ level: 'silent' }), {
      beforeMessage: (input) => {
        seen.push(input);
        return input.text.includes('secret') ? { action: 'reject', reason: 'in-process says no' } : { action: 'replace', text: `${input.text} (checked)` };
      },
    });
  });
  afterAll(() => server.close());

  it('filters first; the hook sees the masked text, the in-process hook sees the hook\'s', async () => {
    const ws = `ws://127.0.0.1:${server.port}/ws`;
    const { alice, bob } = await pair(ws, 'chain');
    hook.handler = (r) => answer(r, { action: 'replace', text: `${r.body.text}!` });
    const reply = await alice.ok('send', { room: 'chain', text: 'darn it' });
    expect(hook.requests.at(-1)?.body.text).toBe('**** it');
    expect(seen.at(-1)?.text).toBe('**** it!');
    expect(reply.text).toBe('**** it! (checked)');
    expect((await bob.next('msg')).text).toBe('**** it! (checked)');
    expect(await alice.request('send', { room: 'chain', text: 'a secret' })).toMatchObject({ ok: false, error: { code: 'rejected', message: 'in-process says no' } });
    // A hook reject ends the chain: the in-process hook is not asked.
    const asked = seen.length;
    hook.handler = (r) => answer(r, { action: 'reject', reason: 'hook says no' });
    expect(await alice.request('send', { room: 'chain', text: 'x' })).toMatchObject({ ok: false, error: { code: 'rejected', message: 'hook says no' } });
    expect(seen.length).toBe(asked);
  });
});

describe('an in-process beforeMessage that hangs, throws or answers a bad replacement', () => {
  const servers: RoomcastServer[] = [];
  const start = async (hookFail: 'open' | 'closed') => {
    const options = { port: 0, host: '127.0.0.1', dataDir: tempDir(), logLevel: 'silent' as const, ratePerSec: 0, hookTimeoutMs: 100, hookFail, maxText: 50 };
    const server = await startServer(options, pino({ level: 'silent' }), {
      beforeMessage: (input) => {
        if (input.text === 'hang') return new Promise(() => {});
        if (input.text === 'throw') throw new Error('bug in the embedder');
        if (input.text === 'nul') return { action: 'replace', text: 'a\u0000b' };
        if (input.text === 'long') return { action: 'replace', text: 'x'.repeat(51) };
        return { action: 'allow' };
      },
    });
    servers.push(server);
    return `ws://127.0.0.1:${server.port}/ws`;
  };
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it('closed: each is refused with unavailable after --hook-timeout, and the room\'s queue moves on', async () => {
    const { alice, bob } = await pair(await start('closed'), 'held');
    const hung = alice.request('send', { room: 'held', text: 'hang' });
    const after = bob.ok('send', { room: 'held', text: 'later, from Bob' });
    expect(await hung).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect((await after).seq).toBe(1);
    for (const text of ['throw', 'nul', 'long']) {
      expect(await alice.request('send', { room: 'held', text }), text).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    }
    expect((await bob.ok('history', { room: 'held' })).messages.map((m: { text: string }) => m.text)).toEqual(['later, from Bob']);
  });

  it('open: each goes through as sent', async () => {
    const { alice, bob } = await pair(await start('open'), 'held');
    for (const text of ['hang', 'throw', 'nul', 'long']) expect((await alice.ok('send', { room: 'held', text })).text, text).toBeUndefined();
    expect((await bob.ok('history', { room: 'held' })).messages.map((m: { text: string }) => m.text)).toEqual(['hang', 'throw', 'nul', 'long']);
  });
});

describe('the hook receiver in docs/integration.md', () => {
  const SECRET = 'docs-secret-0123456789';
  let child: ChildProcessWithoutNullStreams;
  let server: RoomcastServer;
  let unsigned: RoomcastServer;
  beforeAll(async () => {
    const section = readFileSync(DOCS, 'utf8').split('<!-- B:begin -->')[1]?.split('<!-- B:end -->')[0] ?? '';
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    const file = join(tempDir(), 'hook.mjs');
    writeFileSync(file, code as string);
    child = spawn(process.execPath, [file], { env: { ...process.env, PORT: '0', HOOK_SECRET: SECRET } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const url = await waitUntil(() => /hook on (http:\S+)/.exec(out)?.[1], { what: 'the example hook to listen', seen: () => out, on: events(child.stdout, 'data') });
    const base = { port: 0, host: '127.0.0.1', logLevel: 'silent' as const, hookUrl: url, hookFail: 'closed' as const };
    server = await startServer({ ...base, dataDir: tempDir(), hookSecret: SECRET }, pino({ level: 'silent' }));
    unsigned = await startServer({ ...base, dataDir: tempDir() }, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await Promise.all([server?.close(), unsigned?.close()]);
    child?.kill();
  });

  it('rejects links, replaces words, and refuses unsigned requests', async () => {
    const { alice, bob } = await pair(`ws://127.0.0.1:${server.port}/ws`, 'docs');
    expect(await alice.request('send', { room: 'docs', text: 'see https://spam.example' })).toMatchObject({ ok: false, error: { code: 'rejected', message: 'links are not allowed here' } });
    expect((await alice.ok('send', { room: 'docs', text: 'oh darn' })).text).toBe('oh d**n');
    expect((await bob.next('msg')).text).toBe('oh d**n');
    const other = await pair(`ws://127.0.0.1:${unsigned.port}/ws`, 'docs');
    // The receiver answers 401 without a valid signature: a failure, so closed refuses.
    expect(await other.alice.request('send', { room: 'docs', text: 'hi' })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });
});
