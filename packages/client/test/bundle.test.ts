import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles, type BuiltBundle } from './bundles.js';
import { removeDir, serverPerSuite, tempDir } from './helpers.js';

// The ESM bundle (dist/roomcast-client.min.js) and the CommonJS one (dist/roomcast.cjs), each
// loaded as its users load it: `import` from a module, `require()` from a CommonJS program. The
// ES2015 script build has script-bundle.test.ts.

const NODE_BUILTINS = ['fs', 'path', 'os', 'crypto', 'net', 'http', 'https', 'stream', 'buffer', 'events', 'util', 'zlib', 'url', 'child_process', 'tls'];
const CJS_CONSUMER = fileURLToPath(new URL('./cjs-consumer.cjs', import.meta.url));

/** No import or require of anything, so certainly no Node built-in; no Node globals. */
function expectSelfContained(code: string): void {
  expect(code).not.toMatch(/\bimport\s*(?:[\w*{]|["'(])/);
  expect(code).not.toMatch(/\brequire\s*\(/);
  expect(code).not.toMatch(/["']node:/);
  for (const name of NODE_BUILTINS) expect(code).not.toMatch(new RegExp(`from\\s*["']${name}["']`));
  expect(code).not.toMatch(/\bprocess\.|\bBuffer\b/);
  // TypeBox (the server's schema library) must not ride along.
  expect(code).not.toMatch(/TypeBox|\[Kind\]|sinclair/i);
}

describe('SDK bundles', () => {
  const server = serverPerSuite();
  const dir = tempDir('roomcast-bundle-');
  let built: Record<BuiltBundle['format'], BuiltBundle>;
  beforeAll(() => {
    built = buildBundles(dir);
  });
  afterAll(() => removeDir(dir));

  it('ESM: one self-contained file with no Node built-ins, under 20 kB gzipped', () => {
    const code = readFileSync(built.esm.outfile, 'utf8');
    console.log(`bundles: ${Object.values(built).map((b) => `${b.format} ${b.raw} bytes, ${b.gzipped} gzipped`).join('; ')}`);
    expect(built.esm.gzipped).toBeLessThan(20 * 1024);
    expect(built.iife.gzipped).toBeLessThan(20 * 1024);
    expectSelfContained(code);
    expect(code).toMatch(/export\s*\{/);
  });

  it('ESM: imported, it connects and chats (in Node, with ws injected)', async () => {
    const mod = (await import(pathToFileURL(built.esm.outfile).href)) as typeof import('../src/index.js');
    const chat = new mod.RoomcastClient(server.wsUrl, { WebSocket, name: 'Bundle' });
    await chat.connect();
    const room = await chat.create();
    expect(await room.send('hi from the bundle')).toMatchObject({ seq: 1 });
    chat.close();
    expect(typeof mod.wxSocket).toBe('function');
    expect(typeof mod.backoffDelay).toBe('function');
  });

  it('CommonJS: self-contained, and a require() program connects, sends text and binary, and gets a file URL', async () => {
    const code = readFileSync(built.cjs.outfile, 'utf8');
    expect(code).toMatch(/module\.exports\s*=/);
    expectSelfContained(code.replace(/\bmodule\.exports\b/g, ''));
    const { stdout } = await promisify(execFile)(process.execPath, [CJS_CONSUMER, built.cjs.outfile, server.wsUrl], { encoding: 'utf8' });
    const out = JSON.parse(stdout) as { seqs: number[]; seen: string[]; fileUrl: string | null; exports: string[]; isError: boolean };
    expect(out.seqs).toEqual([1, 2]);
    expect(out.seen).toEqual(['hi from require()', 'image/gif ça.gif 4']);
    expect(out.fileUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/rooms\/[^/]+\/files\/2\?key=/);
    expect(out.exports).toEqual(expect.arrayContaining(['RoomcastClient', 'RoomcastError', 'Room', 'wxSocket', 'webSocketFactory', 'backoffDelay', 'MAX_HISTORY_PAGE']));
    expect(out.isError).toBe(true);
  });

  it("the package's exports send import to the ESM modules and require to roomcast.cjs", () => {
    const require = createRequire(import.meta.url);
    expect(require.resolve('@roomcast/client')).toMatch(/packages[/\\]client[/\\]dist[/\\]roomcast\.cjs$/);
    expect(fileURLToPath(import.meta.resolve('@roomcast/client'))).toMatch(/packages[/\\]client[/\\]dist[/\\]index\.js$/);
    expect(require.resolve('@roomcast/client/roomcast-client.js')).toMatch(/dist[/\\]roomcast-client\.js$/);
  });
});
