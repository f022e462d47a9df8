import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, tempDir } from './helpers.js';

// The browser bundle: built by the same script `npm run build` uses, into a temporary file.

const SCRIPT = fileURLToPath(new URL('../scripts/bundle.mjs', import.meta.url));
const NODE_BUILTINS = ['fs', 'path', 'os', 'crypto', 'net', 'http', 'https', 'stream', 'buffer', 'events', 'util', 'zlib', 'url', 'child_process', 'tls'];

describe('browser bundle', () => {
  const dir = tempDir('roomcast-bundle-');
  const out = join(dir, 'roomcast-client.min.js');
  afterAll(() => removeDir(dir));

  it('is one self-contained ESM file with no Node built-ins, under 20 kB gzipped', () => {
    const report = JSON.parse(execFileSync(process.execPath, [SCRIPT, '--outfile', out, '--json'], { encoding: 'utf8' })) as { raw: number; gzipped: number };
    const code = readFileSync(out, 'utf8');
    console.log(`bundle: ${report.raw} bytes, ${report.gzipped} bytes gzipped`);
    expect(report.gzipped).toBeLessThan(20 * 1024);
    // Self-contained: no import or require of anything, so certainly no Node built-in.
    expect(code).not.toMatch(/\bimport\s*(?:[\w*{]|["'(])/);
    expect(code).not.toMatch(/\brequire\s*\(/);
    expect(code).not.toMatch(/["']node:/);
    for (const name of NODE_BUILTINS) expect(code).not.toMatch(new RegExp(`from\\s*["']${name}["']`));
    expect(code).not.toMatch(/\bprocess\.|\bBuffer\b/);
    // TypeBox (the server's schema library) must not ride along.
    expect(code).not.toMatch(/TypeBox|\[Kind\]|sinclair/i);
    expect(code).toMatch(/export\s*\{/);
  });

  it('works: the bundle connects and chats (in Node, with ws injected)', async () => {
    const mod = (await import(pathToFileURL(out).href)) as typeof import('../src/index.js');
    const server = await startTestServer();
    try {
      const chat = new mod.RoomcastClient(server.wsUrl, { WebSocket, name: 'Bundle' });
      await chat.connect();
      const room = await chat.create();
      expect(await room.send('hi from the bundle')).toMatchObject({ seq: 1 });
      chat.close();
      expect(typeof mod.wxSocket).toBe('function');
      expect(typeof mod.backoffDelay).toBe('function');
    } finally {
      await server.close();
    }
  });
});
