import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Sdk from '../src/index.js';
import { buildBundles } from './bundles.js';
import { collect, connect, removeDir, serverPerSuite, tempDir } from './helpers.js';
import { wxStandIn } from './wx-standin.js';

// dist/roomcast-client.js, the ES2015 single-file build, loaded the way its users load it: as a
// classic script in a global scope that has only what a browser or a mini program has. A `vm`
// context has the language's built-ins and nothing of Node's or the web's: no require, process,
// Buffer, TextEncoder/TextDecoder, URL, crypto or WebSocket. We add timers, console and `wx`.

type Global = Record<string, unknown>;

function sandbox(extra: Global = {}): vm.Context {
  return vm.createContext({ setTimeout, clearTimeout, console, ...extra });
}

describe('the <script> / mini program bundle (roomcast-client.js, global Roomcast)', () => {
  const server = serverPerSuite();
  const dir = tempDir('roomcast-script-');
  let code = '';
  beforeAll(() => {
    code = readFileSync(buildBundles(dir).iife.outfile, 'utf8');
  });
  afterAll(() => removeDir(dir));

  it('is ES2015 syntax that touches nothing of Node', () => {
    // esbuild lowers everything newer for target es2015; these would mean it did not.
    expect(code).not.toMatch(/\basync\s*(function\b|\(|[\w$]+\s*=>)/);
    expect(code).not.toMatch(/\bawait\b/);
    expect(code).not.toMatch(/\?\?|\?\.[\w$[(]|\*\*/);
    expect(code).not.toMatch(/\brequire\s*\(|\bprocess\.|\bBuffer\b|["']node:/);
    expect(code).not.toMatch(/\bimport\s*(?:[\w*{]|["'(])|\bexport\s*\{/);
  });

  it('defines the global Roomcast in a bare global scope, and exports it where module.exports exists', () => {
    const page = sandbox();
    for (const name of ['require', 'module', 'process', 'Buffer', 'TextEncoder', 'TextDecoder', 'WebSocket', 'URL', 'crypto']) {
      expect(vm.runInContext(`typeof ${name}`, page), name).toBe('undefined');
    }
    vm.runInContext(code, page, { filename: 'roomcast-client.js' });
    const Roomcast = vm.runInContext('Roomcast', page) as typeof Sdk;
    expect(typeof Roomcast.RoomcastClient).toBe('function');
    expect(typeof Roomcast.wxSocket).toBe('function');
    expect(Roomcast.MAX_HISTORY_PAGE).toBe(200);

    // A mini program's file scope (and CommonJS): `module.exports` is the SDK, nothing leaks.
    const mini = sandbox({ module: { exports: {} } });
    vm.runInContext(`(function (module, exports) {\n${code}\n})(module, module.exports);`, mini);
    const exported = (vm.runInContext('module', mini) as { exports: typeof Sdk }).exports;
    expect(typeof exported.RoomcastClient).toBe('function');
    expect(vm.runInContext('typeof Roomcast', mini)).toBe('undefined');
  });

  it('says what to pass when the runtime has no WebSocket', () => {
    const page = sandbox();
    vm.runInContext(code, page);
    const Roomcast = vm.runInContext('Roomcast', page) as typeof Sdk;
    let thrown: unknown;
    try {
      new Roomcast.RoomcastClient(server.wsUrl, { name: 'Nobody' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Roomcast.RoomcastError);
    expect(thrown).toMatchObject({ code: 'bad_request', message: expect.stringContaining('wxSocket(wx)') });
  });

  it('chats over wx with text and binary, without TextEncoder/TextDecoder, and gives a file URL at once', async () => {
    const page = sandbox();
    const RealmBuffer = vm.runInContext('ArrayBuffer', page) as ArrayBufferConstructor;
    const RealmBytes = vm.runInContext('Uint8Array', page) as Uint8ArrayConstructor;
    const wx = wxStandIn((n) => new RealmBuffer(n));
    vm.runInContext(code, page);
    const Roomcast = vm.runInContext('Roomcast', page) as typeof Sdk;

    const mini = new Roomcast.RoomcastClient(server.wsUrl, { socket: Roomcast.wxSocket(wx), name: 'Mini', minReconnectDelay: 20 });
    try {
      await mini.connect();
      const room = await mini.create();
      const web = await connect(server.wsUrl, { name: 'Web' });
      try {
        const webRoom = await web.join(room.id);
        const atWeb = collect(webRoom);
        const atMini = collect(room as unknown as Sdk.Room);

        // Non-ASCII in the binary frame's JSON header, both ways: the built-in UTF-8 codec.
        const picture = new RealmBytes([137, 80, 78, 71, 13, 10, 26, 10, 0, 255]);
        const sent = await room.sendBinary(picture, { mime: 'image/png', name: '图片.png', meta: { caption: 'café 👋' } });
        const own = room.message(sent.seq);
        expect(own?.mine).toBe(true);
        const url = mini.fileUrl(own as Sdk.Message);
        expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/api/rooms/${room.id}/files/${sent.seq}\\?key=`));
        const file = await fetch(url as string);
        expect(file.status).toBe(200);
        expect([...new Uint8Array(await file.arrayBuffer())]).toEqual([...picture]);

        await webRoom.sendBinary(new Uint8Array([1, 2, 3]), { mime: 'application/octet-stream', name: 'réponse.bin', meta: { note: '你好' } });
        await room.send('text too: ✓');

        const webGot = await atWeb.until(3);
        expect(webGot[0]).toMatchObject({ binary: { mime: 'image/png', name: '图片.png', size: 10 }, meta: { caption: 'café 👋' }, from: { name: 'Mini' } });
        expect([...(webGot[0]?.data ?? [])]).toEqual([...picture]);
        expect(webGot[2]?.text).toBe('text too: ✓');
        const miniGot = await atMini.until(3);
        expect(miniGot.map((m) => m.seq)).toEqual([1, 2, 3]);
        expect(miniGot[1]).toMatchObject({ binary: { name: 'réponse.bin', size: 3 }, meta: { note: '你好' }, mine: false });
        expect([...(miniGot[1]?.data ?? [])]).toEqual([1, 2, 3]);
        expect(wx.sent.some((d) => typeof d !== 'string')).toBe(true);
      } finally {
        web.close();
      }
    } finally {
      mini.close();
    }
  });
});
