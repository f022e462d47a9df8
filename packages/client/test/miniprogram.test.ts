import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serverPerSuite } from './helpers.js';
import { MiniProgram, PNG, type PageInstance } from './miniprogram-harness.js';

// The example WeChat mini program (examples/wechat-miniprogram), run headlessly: its own page
// code, on the SDK build it vendors, against a real server, with a `wx` built on `ws` and HTTP
// (miniprogram-harness.ts). Two instances are Alice's and Bob's phones: sign-in, the room list,
// creating and joining a room, text both ways, a picture that the other side downloads with the
// Authorization header, direct messages, and coming back as the same guest.

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const example = join(repo, 'examples', 'wechat-miniprogram');
const root = join(example, 'miniprogram');
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: example, encoding: 'utf8', stdio: 'pipe' });

/** A tap on an element with these `data-*` attributes. */
const tap = (dataset: Record<string, string> = {}) => ({ type: 'tap', currentTarget: { dataset }, target: { dataset }, detail: {} });
const input = (value: string) => ({ type: 'input', detail: { value } });

beforeAll(() => {
  // The mini program loads the SDK from miniprogram/lib/roomcast.js: a copy of the CommonJS build.
  if (!existsSync(join(repo, 'packages', 'client', 'dist', 'roomcast.cjs'))) throw new Error('packages/client/dist/roomcast.cjs is missing: run `npm run build` first');
  node(['scripts/vendor.mjs']);
  node(['scripts/vendor.mjs', '--check']);
});

describe('the example mini program, statically', () => {
  it('is a complete project: every page of app.json has its four files, and every handler its template names exists', () => {
    const config = JSON.parse(readFileSync(join(example, 'project.config.json'), 'utf8')) as { miniprogramRoot: string; compileType: string };
    expect(config).toMatchObject({ miniprogramRoot: 'miniprogram/', compileType: 'miniprogram' });
    const mp = new MiniProgram({ root, config: { server: 'https://chat.example.com' } });
    expect(mp.pages).toEqual(['pages/login/login', 'pages/rooms/rooms', 'pages/chat/chat']);
    // The pages and the SDK run below with none of these, as on an old base library.
    for (const name of ['TextEncoder', 'TextDecoder', 'URL', 'URLSearchParams', 'fetch', 'crypto', 'WebSocket', 'Buffer', 'process', 'window', 'document']) expect(mp.typeOf(name), name).toBe('undefined');
    for (const route of mp.pages) {
      for (const ext of ['js', 'json', 'wxml', 'wxss']) expect(existsSync(join(root, `${route}.${ext}`)), `${route}.${ext}`).toBe(true);
      const def = mp.definition(route);
      const wxml = readFileSync(join(root, `${route}.wxml`), 'utf8');
      const handlers = [...wxml.matchAll(/\b(?:bind|catch)\w+="(\w+)"/g)].map((m) => m[1] as string);
      expect(handlers.length).toBeGreaterThan(0);
      for (const h of handlers) expect(typeof def[h], `${route}.wxml calls ${h}`).toBe('function');
      // Every name a {{binding}} reads is in the page's data (or the wx:for item).
      const known = new Set([...Object.keys(def.data as object), 'item', 'index', 'true', 'false', 'null']);
      for (const [, expr = ''] of wxml.matchAll(/\{\{(.*?)\}\}/g)) {
        const names = expr.replace(/'[^']*'|"[^"]*"/g, '').match(/(?<![.\w$])[A-Za-z_$][\w$]*/g) ?? [];
        for (const n of names) expect(known.has(n), `${route}.wxml reads "${n}" in {{${expr}}}`).toBe(true);
      }
    }
  });

  it('type-checks against the official miniprogram-api-typings and the SDK declarations', () => {
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    let out = '';
    try {
      out = node([tsc, '-p', join(example, 'tsconfig.json'), '--noEmit']);
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(out).toBe('');
  });

  it('vendors exactly the SDK build', () => {
    expect(readFileSync(join(root, 'lib', 'roomcast.js')).equals(readFileSync(join(repo, 'packages', 'client', 'dist', 'roomcast.cjs')))).toBe(true);
  });
});

describe('the example mini program against a real server', () => {
  const server = serverPerSuite();
  const phones: MiniProgram[] = [];
  afterEach(() => {
    for (const p of phones.splice(0)) {
      (p.app.globalData as { chat: { close(): void } | null }).chat?.close();
      p.close();
    }
  });

  const phone = (storage?: Map<string, unknown>) => {
    const p = new MiniProgram({ root, config: { server: `http://127.0.0.1:${server.port}` }, ...(storage ? { storage } : {}) });
    phones.push(p);
    return p;
  };

  async function signIn(p: MiniProgram, name: string): Promise<PageInstance> {
    const login = p.launch();
    await login.ready;
    login.onInput(input(name));
    await login.onSignIn();
    return p.page('pages/rooms/rooms');
  }

  const texts = (page: PageInstance) => (page.data.messages as Array<{ text: string; from: string; mine: boolean }>).map((m) => `${m.mine ? 'me' : m.from}: ${m.text}`);

  it('signs in, lists, creates and joins rooms, chats with text and pictures, and sends direct messages', async () => {
    const alice = phone();
    const bob = phone();
    const aliceRooms = await signIn(alice, 'Alice');
    const bobRooms = await signIn(bob, 'Bob');
    expect(aliceRooms.data.me).toBe('Alice');
    expect(alice.storage.get('roomcast.name')).toBe('Alice');
    expect(alice.storage.get('roomcast.guest')).toEqual(expect.any(String));
    expect(aliceRooms.data.rooms).toEqual([]);

    // Alice creates a room; the page opens it.
    aliceRooms.onTitleInput(input('Lunch'));
    await aliceRooms.onCreate();
    const aliceChat = await alice.page('pages/chat/chat');
    expect(aliceChat.data).toMatchObject({ title: 'Lunch', direct: false, online: 1, messages: [], loading: false });
    const roomId = aliceChat.roomId as string;
    expect(alice.navigations.at(-1)).toBe(`navigateTo /pages/chat/chat?room=${roomId}`);

    // Bob joins it by its id.
    bobRooms.onJoinInput(input(roomId));
    bobRooms.onJoin();
    const bobChat = await bob.page('pages/chat/chat');
    expect(bobChat.data.title).toBe('Lunch');
    await alice.until(() => aliceChat.data.online === 2, 'Alice seeing Bob online');

    // Text both ways, typing on the way.
    aliceChat.onInput(input('hi Bob'));
    await bob.until(() => bobChat.data.typing === 'Alice is typing…', "Bob seeing Alice's typing");
    await aliceChat.onSend();
    expect(aliceChat.data.draft).toBe('');
    await bob.until(() => texts(bobChat).includes('Alice: hi Bob'), "Bob getting Alice's message");
    expect(bobChat.data.typing).toBe('');
    bobChat.onInput(input('hi Alice'));
    await bobChat.onSend();
    await alice.until(() => texts(aliceChat).join('|') === 'me: hi Bob|Bob: hi Alice', "Alice getting Bob's reply");

    // A picture: chooseMedia → read → sendBinary; both sides download it with the token in the
    // Authorization header, not in the URL, and show the local file.
    await aliceChat.onChooseImage();
    const picture = (page: PageInstance) => (page.data.messages as Array<{ image: boolean; src: string; seq: number }>).find((m) => m.image && m.src);
    const atBob = await bob.until(() => picture(bobChat), 'the picture downloaded on Bob\'s phone');
    expect(readFileSync(atBob.src).equals(PNG)).toBe(true);
    const atAlice = await alice.until(() => picture(aliceChat), 'the picture downloaded on Alice\'s phone');
    expect(readFileSync(atAlice.src).equals(PNG)).toBe(true);
    for (const d of [...alice.downloads, ...bob.downloads]) {
      expect(d.url).toBe(`http://127.0.0.1:${server.port}/api/rooms/${roomId}/files/${atBob.seq}`);
      expect(d.header.Authorization).toMatch(/^Bearer .+/);
      expect(d.statusCode).toBe(200);
    }

    // Bob taps Alice's name: a direct conversation, new, so it has no id until the first message.
    const aliceId = (alice.app.globalData as { chat: { user: { id: string } } }).chat.user.id;
    bobChat.onTapSender(tap({ id: aliceId, name: 'Alice' }));
    const bobDm = await bob.page('pages/chat/chat');
    expect(bobDm).not.toBe(bobChat);
    expect(bobDm.data).toMatchObject({ direct: true, title: 'Alice', messages: [] });
    bobDm.onInput(input('psst, lunch at 1?'));
    await bobDm.onSend();
    await bob.until(() => texts(bobDm).includes('me: psst, lunch at 1?'), "Bob's own DM shown");
    const dmRoom = bobDm.roomId as string;
    expect(dmRoom).toMatch(/^dm-/);

    // Alice goes back to her list; the conversation is there, from Bob; she opens it.
    alice.wx.navigateBack();
    await alice.until(() => alice.top === aliceRooms && (aliceRooms.data.rooms as Array<{ id: string }>).some((r) => r.id === dmRoom), 'the DM in Alice\'s room list');
    const row = (aliceRooms.data.rooms as Array<{ id: string; title: string; direct: boolean; peerId: string; peerName: string; unread: number }>).find((r) => r.id === dmRoom);
    expect(row).toMatchObject({ title: '@ Bob', direct: true, peerName: 'Bob', unread: 1 });
    aliceRooms.onOpen(tap({ id: dmRoom, peer: row?.peerId ?? '', name: row?.peerName ?? '' }));
    const aliceDm = await alice.page('pages/chat/chat');
    expect(aliceDm.data).toMatchObject({ direct: true, title: 'Bob' });
    expect(texts(aliceDm)).toEqual(['Bob: psst, lunch at 1?']);
    aliceDm.onInput(input('yes!'));
    await aliceDm.onSend();
    await bob.until(() => texts(bobDm).join('|') === 'me: psst, lunch at 1?|Alice: yes!', "Alice's DM reply at Bob");
    // A picture in the conversation too.
    await aliceDm.onChooseImage();
    const dmPicture = await bob.until(() => picture(bobDm), 'the DM picture downloaded on Bob\'s phone');
    expect(readFileSync(dmPicture.src).equals(PNG)).toBe(true);
    expect(bob.downloads.at(-1)?.url).toBe(`http://127.0.0.1:${server.port}/api/rooms/${dmRoom}/files/${dmPicture.seq}`);

    for (const p of [alice, bob]) {
      expect(p.toasts).toEqual([]);
      expect(p.errors).toEqual([]);
      expect(p.downloads.every((d) => !/token|guest=/i.test(d.url))).toBe(true);
    }
  });

  it('comes back as the same guest from storage, straight to the room list, with history', async () => {
    const first = phone();
    const rooms = await signIn(first, 'Carol');
    rooms.onTitleInput(input('Notes'));
    await rooms.onCreate();
    const chat = await first.page('pages/chat/chat');
    chat.onInput(input('remember me'));
    await chat.onSend();
    await first.until(() => texts(chat).includes('me: remember me'), 'the message shown');
    const id = (first.app.globalData as { chat: { user: { id: string } } }).chat.user.id;
    (first.app.globalData as { chat: { close(): void } }).chat.close();
    first.close();

    // The same phone later: the login page signs in by itself with the saved token.
    const again = phone(new Map(first.storage));
    again.launch();
    const list = await again.page('pages/rooms/rooms');
    expect((again.app.globalData as { chat: { user: { id: string; name: string } } }).chat.user).toEqual({ id, name: 'Carol' });
    await again.until(() => (list.data.rooms as Array<{ title: string }>).some((r) => r.title === 'Notes'), 'Carol\'s room in the list');
    list.onOpen(tap({ id: chat.roomId as string }));
    const reopened = await again.page('pages/chat/chat');
    expect(texts(reopened)).toEqual(['me: remember me']);
    expect(again.toasts).toEqual([]);
    expect(again.errors).toEqual([]);
  });
});
