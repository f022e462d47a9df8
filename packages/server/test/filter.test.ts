import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/wait.js';
import { spawnServe, type ChildServer } from './child-server.js';
import { serverPerSuite, startTestServer, tempDir, TestClient, type TestServer } from './helpers.js';

// The built-in filter (--filter-words, --filter-patterns, --filter-mode) on a real server: masks
// and rejects, Chinese and full-width, presets, a refused regex at start, and SIGHUP reloads.

function file(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

let rooms = 0;
async function pair(server: Pick<TestServer, 'connect'>): Promise<{ alice: TestClient; bob: TestClient; room: string }> {
  const room = `f${++rooms}`;
  const alice = await server.connect({ name: 'Alice' });
  const bob = await server.connect({ name: 'Bob' });
  await alice.ok('create', { room });
  await bob.ok('join', { room });
  return { alice, bob, room };
}

const WORDS = '# blocked words\nfuck\n敏感词\nbad phrase\n';

describe('--filter-mode mask', () => {
  const server = serverPerSuite(() => ({ ratePerSec: 0, filterWords: file('words.txt', WORDS), filterPatterns: 'phone-cn,card' }));

  it('masks listed words as written (case, full width, Chinese), in the stored and delivered text and the reply', async () => {
    const { alice, bob, room } = await pair(server);
    const reply = await alice.ok('send', { room, text: 'FUCK, ｆｕｃｋ and 敏感词, a Bad Phrase' });
    const masked = '****, **** and ***, a **********';
    expect(reply.text).toBe(masked);
    expect((await bob.next('msg')).text).toBe(masked);
    expect((await bob.ok('history', { room })).messages[0].text).toBe(masked);
    const clean = await alice.ok('send', { room, text: 'all good' });
    expect(clean.text).toBeUndefined();
    expect((await bob.next('msg')).text).toBe('all good');
  });

  it('masks presets: a valid phone number and card, not an invalid card', async () => {
    const { alice, bob, room } = await pair(server);
    await alice.ok('send', { room, text: 'call 13812345678, card 4111 1111 1111 1111, not 4111 1111 1111 1112' });
    expect((await bob.next('msg')).text).toBe(`call ${'*'.repeat(11)}, card ${'*'.repeat(19)}, not 4111 1111 1111 1112`);
  });

  it('folds before matching: marks and fillers inside a word, full-width digits in a preset', async () => {
    const { alice, bob, room } = await pair(server);
    await alice.ok('send', { room, text: 'fu\u0301ck f\u3164uck, call １３８\u200B１２３４５６７８' });
    expect((await bob.next('msg')).text).toBe(`***** *****, call ${'*'.repeat(12)}`);
  });

  it('masks edits and DMs too', async () => {
    const { alice, bob, room } = await pair(server);
    await alice.ok('send', { room, text: 'ok' });
    await alice.ok('edit', { room, seq: 1, text: 'now fuck' });
    expect((await bob.next('edit')).text).toBe('now ****');
    await alice.ok('dm', { to: bob.userId, text: '敏感词!' });
    expect((await bob.next('msg', (m) => m.room !== room)).text).toBe('***!');
  });
});

describe('--filter-mode reject', () => {
  const server = serverPerSuite(() => ({ ratePerSec: 0, filterWords: file('words.txt', WORDS), filterPatterns: 'id-cn,email', filterMode: 'reject' }));

  it('refuses with rejected, without echoing the list; nothing is stored', async () => {
    const { alice, bob, room } = await pair(server);
    const refused = await alice.request('send', { room, text: 'what the ＦＵＣＫ' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'rejected' } });
    expect(refused.error.message).toMatch(/a word this server does not allow/);
    expect(refused.error.message).not.toMatch(/fuck/i);
    const id = await alice.request('send', { room, text: 'my id 11010519491231002X' });
    expect(id).toMatchObject({ ok: false, error: { code: 'rejected', message: expect.stringContaining('identity card number') } });
    const mail = await alice.request('send', { room, text: 'mail ann\u200B@example.com' });
    expect(mail).toMatchObject({ ok: false, error: { code: 'rejected', message: expect.stringContaining('an email address') } });
    // A wrong check character is not an id number.
    await alice.ok('send', { room, text: 'my id 110105194912310021' });
    expect((await bob.next('msg')).text).toBe('my id 110105194912310021');
    expect((await alice.ok('history', { room })).messages.length).toBe(1);
  });
});

describe('file: expressions that backtrack for too long', () => {
  // safe-regex2 and the static check let this through; on 40 digits it would run for minutes.
  const patterns = () => file('patterns.txt', 'ORD-\\d+\n\\d*\\d*\\d*\\d*\\d*\\d*\\d*\\d*x\n');
  const closed = serverPerSuite(() => ({ ratePerSec: 0, filterPatterns: `file:${patterns()}`, hookFail: 'closed' }));
  const open = serverPerSuite(() => ({ ratePerSec: 0, filterPatterns: `file:${patterns()}`, hookFail: 'open' }));

  it('cost that message only (closed: unavailable); the server and the room go on', async () => {
    const { alice, bob, room } = await pair(closed);
    const slow = alice.request('send', { room, text: '1'.repeat(40) });
    const health = await fetch(`${closed.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await slow).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('could not check this message in time') } });
    expect((await alice.ok('send', { room, text: 'see ORD-12' })).text).toBe('see ******');
    expect((await bob.next('msg')).text).toBe('see ******');
  });

  it('open: the message goes through unmasked by them', async () => {
    const { alice, bob, room } = await pair(open);
    await alice.ok('send', { room, text: '1'.repeat(40) });
    expect((await bob.next('msg')).text).toBe('1'.repeat(40));
  });
});

describe('loading the lists', () => {
  it('refuses to start with a catastrophic regular expression, naming the line', async () => {
    const patterns = file('patterns.txt', '# ok\nORD-\\d+\n(x+x+)+y\n');
    await expect(startTestServer({ filterPatterns: `file:${patterns}` })).rejects.toThrow(/line 3: .* can backtrack catastrophically/);
    const alternation = file('patterns.txt', '(a|aa)*b\n');
    await expect(startTestServer({ filterPatterns: `file:${alternation}` })).rejects.toThrow(/line 1: .* can backtrack catastrophically \(a repeated group/);
  });

  it('refuses to start with a words file it cannot read', async () => {
    await expect(startTestServer({ filterWords: '/nonexistent/words.txt' })).rejects.toThrow(/--filter-words: cannot read/);
  });
});

describe('SIGHUP', () => {
  const running: ChildServer[] = [];
  afterEach(() => {
    for (const r of running.splice(0)) r.child.kill('SIGKILL');
  });

  it('rereads the words file; a bad file on reload keeps the old list and says why', async () => {
    const words = file('words.txt', 'apple\n');
    const patterns = file('patterns.txt', 'ORD-\\d+\n');
    const child = await spawnServe(['--port', '0', '--host', '127.0.0.1', '--data', tempDir(), '--filter-words', words, '--filter-patterns', `file:${patterns}`, '--presence-grace', '0']);
    running.push(child);
    const server = { connect: (p: Record<string, string>) => TestClient.connect(`ws://127.0.0.1:${child.port}/ws`, p) };
    const { alice, room } = await pair(server);
    const sendText = async (text: string) => (await alice.ok('send', { room, text })).text ?? text;
    expect(await sendText('apple pear')).toBe('***** pear');

    writeFileSync(words, 'pear\n');
    child.child.kill('SIGHUP');
    await waitUntil(() => child.stderr().includes('filter lists reloaded'), { what: 'the reload log line', seen: child.stderr });
    expect(await sendText('apple pear')).toBe('apple ****');

    // A catastrophic pattern on reload: the lists before it stay in use.
    writeFileSync(words, 'plum\n');
    writeFileSync(patterns, '(a+)+$\n');
    child.child.kill('SIGHUP');
    await waitUntil(() => child.stderr().includes('filter lists not reloaded'), { what: 'the refused reload log line', seen: child.stderr });
    expect(child.stderr()).toMatch(/line 1: .*can backtrack catastrophically/);
    expect(await sendText('apple pear plum ORD-1')).toBe('apple **** plum *****');
    await alice.close();
  });
});
