import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { removeDir, startTestServer } from '../packages/server/test/helpers.js';
import { serverOptions } from './doc-servers.js';
import { parseSnippets, pointAt, type Snippet } from './doc-snippets.js';

// Every ```js run snippet of docs/migrating.md runs as a Node ES module against a fresh real
// server, and must exit 0 printing exactly the ```text block under it. The snippets import
// `@roomcast/client` as an app does: the workspace package, i.e. its build in packages/client/dist.

const DOC = 'docs/migrating.md';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const snippets = parseSnippets(readFileSync(join(ROOT, DOC), 'utf8'), DOC);

/** How long one snippet may run (it reconnects, waits for messages) before it fails. */
const RUN_MS = 20_000;

/**
 * Runs code as `node --input-type=module` from the repository root, so bare imports (`ws`,
 * `@roomcast/client`) resolve as they would in an app with these packages installed.
 */
function runNode(code: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n(killed after ${RUN_MS} ms)`;
    }, RUN_MS);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(code);
  });
}

async function runSnippet(s: Snippet): Promise<void> {
  const server = await startTestServer(serverOptions(s.serverFlags));
  try {
    const { status, stdout, stderr } = await runNode(pointAt(s.code, `127.0.0.1:${server.port}`));
    const where = `${DOC}:${s.line} (${s.heading})`;
    expect(status, `${where} exited with ${status}:\n${stderr}\n${stdout}`).toBe(0);
    expect(stdout.trimEnd(), `${where} printed something else (stderr: ${stderr})`).toBe(s.output.trimEnd());
  } finally {
    await server.close();
    removeDir(server.dataDir);
  }
}

describe(`${DOC} snippets`, () => {
  it('has runnable snippets for every topic, and the SDK build they import', () => {
    const topics = new Set(snippets.map((s) => s.heading));
    for (const t of ['Join a room', 'Broadcast to the room', 'Online counts', 'Private messages', 'Heartbeat', 'Reconnect', 'Offline messages', 'Auth', 'The server side']) {
      expect([...topics].some((h) => h.startsWith(t)), `a runnable snippet under "${t}…"`).toBe(true);
    }
    expect(existsSync(join(ROOT, 'packages/client/dist/index.js')), 'packages/client/dist is built (npm run build)').toBe(true);
  });

  for (const s of snippets) {
    it(`${DOC}:${s.line} (${s.heading})`, () => runSnippet(s), RUN_MS + 10_000);
  }
});

describe('parseSnippets', () => {
  it('takes js run blocks with their flags and output, and nothing else', () => {
    const md = ['# T', '## Join', '```js', 'not run', '```', '```js run --api-key k', "console.log('a')", '```', '', 'It prints:', '', '```text', 'a', '```'].join('\n');
    expect(parseSnippets(md)).toEqual([{ line: 6, heading: 'Join', serverFlags: { 'api-key': 'k' }, code: "console.log('a')", output: 'a' }]);
  });

  it('refuses a snippet without its output block, or a bad fence', () => {
    expect(() => parseSnippets('```js run\nx\n```\n', 'x.md')).toThrow('x.md:1: a runnable snippet must be followed by a ```text block');
    expect(() => parseSnippets('```js run --api-key\nx\n```\n```text\n```', 'x.md')).toThrow('x.md:1: a run fence takes only');
    expect(() => parseSnippets('```js run\nx\n', 'x.md')).toThrow('not closed');
  });

  it('points the snippet at the test server', () => {
    expect(pointAt("new RoomcastClient('ws://localhost:8080/ws'); fetch('http://localhost:8080/api')", '127.0.0.1:5')).toBe(
      "new RoomcastClient('ws://127.0.0.1:5/ws'); fetch('http://127.0.0.1:5/api')",
    );
  });
});
