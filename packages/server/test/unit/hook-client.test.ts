import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookClient } from '../../src/gate/hook-client.js';

// The hook client on its own against a real HTTP server: failures under --hook-fail open are
// counted and logged at most once per 10 s, and an answer's shape is checked.

let server: Server;
let url = '';
let reply: (res: import('node:http').ServerResponse) => void = (res) => res.writeHead(500).end();
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => reply(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const input = { kind: 'message' as const, room: 'r', from: { id: 'u', name: 'U' }, text: 'hi', direct: false };

function client(fail: 'open' | 'closed' = 'open') {
  const warnings: Array<[object, string | undefined]> = [];
  const log = { debug() {}, info() {}, error() {}, warn: (o: object, m?: string) => void warnings.push([o, m]) };
  return { hook: new HookClient({ url, secret: '', timeoutMs: 5000, fail, maxText: 10, log }), warnings };
}

describe('HookClient', () => {
  it('open: each failure lets the message through, is counted, and one warning covers a burst', async () => {
    reply = (res) => res.writeHead(500).end();
    const { hook, warnings } = client();
    for (let i = 0; i < 5; i++) expect(await hook.check(input)).toEqual({ action: 'allow' });
    expect(hook.failures).toBe(5);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[1]).toMatch(/moderation hook failed; letting messages through \(--hook-fail open\)/);
    hook.close();
  });

  it('closed: a failure is unavailable', async () => {
    reply = (res) => res.writeHead(200).end('{"action":"replace","text":"far too long for ten"}');
    const { hook } = client('closed');
    await expect(hook.check(input)).rejects.toMatchObject({ code: 'unavailable' });
    hook.close();
  });

  it('takes the three answers', async () => {
    const { hook } = client('closed');
    for (const answer of [{ action: 'allow' }, { action: 'reject', reason: 'no' }, { action: 'replace', text: 'ok' }]) {
      reply = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      expect(await hook.check(input)).toEqual(answer);
    }
    hook.close();
  });
});
