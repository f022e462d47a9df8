import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Signal, waitUntil } from '../../../test/wait.js';
import { removeDir, tempDir, TestClient } from './helpers.js';

// examples/express-chat, run as its README says (node examples/express-chat/server.mjs, against
// the built package), in a child process on a free port, then stopped with SIGTERM.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('examples/express-chat', () => {
  const dataDir = tempDir();
  const child = spawn(process.execPath, ['examples/express-chat/server.mjs'], { cwd: ROOT, env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' } });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const output = new Signal();
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    output.notify();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let port = 0;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    const started = waitUntil(() => /^listening on http:\/\/127\.0\.0\.1:(\d+)$/m.exec(out)?.[1], { what: 'the example to print its listening line', on: output.on, seen: () => err });
    port = Number(await Promise.race([started, exited.then(([code]) => Promise.reject(new Error(`the example exited with ${String(code)}: ${err}`)))]));
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    if (child.exitCode === null) child.kill('SIGKILL');
    removeDir(dataDir);
  });
  const connect = async (name: string) => {
    const c = await TestClient.connect(`ws://127.0.0.1:${port}/chat/ws`, { name });
    clients.push(c);
    return c;
  };

  it("serves the app's routes", async () => {
    expect(await (await fetch(`http://127.0.0.1:${port}/api/hello`)).json()).toEqual({ hello: 'from express', chat: '/chat/ws' });
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('/chat/ws');
  });

  it('chats on the same port, through all three hooks', async () => {
    const alice = await connect('Alice');
    const bob = await connect('Bob');
    await alice.ok('create', { room: 'lobby' });
    await bob.ok('join', { room: 'lobby' });
    await alice.ok('send', { room: 'lobby', text: 'oh darn, hello' });
    expect((await bob.next('msg')).text).toBe('oh d**n, hello');
    // beforeMessage: no links.
    expect((await bob.request('send', { room: 'lobby', text: 'see https://example.com' })).error).toEqual({ code: 'rejected', message: 'links are not allowed in this chat' });
    // authorize: staff- rooms are for Alice (and admins) only.
    await alice.ok('create', { room: 'staff-only' });
    expect((await bob.request('join', { room: 'staff-only' })).error.code).toBe('forbidden');
    // onEvent logs each event on stdout.
    await waitUntil(() => /^event message\.created .*oh d\*\*n, hello/m.test(out), { what: 'the example to log message.created', on: output.on, seen: () => out });
  });

  it('stops on SIGTERM', async () => {
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});
