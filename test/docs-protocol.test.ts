import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REQUEST_SCHEMAS } from '../packages/protocol/src/schemas.js';
import { removeDir, startTestServer, TestClient, type Frame, type TestServer } from '../packages/server/test/helpers.js';
import { serverOptions } from './doc-servers.js';
import {
  matchFrame,
  parseExamples,
  substitute,
  variablesIn,
  type ExampleBlock,
  type LocatedStep,
} from './doc-examples.js';
import { within } from './wait.js';

// Every ```example block of docs/protocol.md runs against a fresh real server; see the top of
// that file for the format. A failure quotes the documentation line that did not hold.

const DOC = 'docs/protocol.md';
const docPath = join(dirname(fileURLToPath(import.meta.url)), '..', DOC);
const blocks = parseExamples(readFileSync(docPath, 'utf8'), DOC);

/** How long one line may wait for a frame or a close before it fails. */
const WAIT_MS = 5000;

interface Actor {
  client: TestClient;
  /** The welcome of the current connection, once received. */
  welcome: Frame | undefined;
  /** Whether a `←` line already matched that welcome. */
  welcomeShown: boolean;
}

/** Runs one example block against a fresh server and fresh clients. */
async function runBlock(block: ExampleBlock): Promise<void> {
  const server: TestServer = await startTestServer(serverOptions(block.serverFlags));
  const actors = new Map<string, Actor>();
  const everyClient: TestClient[] = [];
  /** `$alice` → the user id from Alice's first welcome. */
  const vars = new Map<string, string>();

  const remember = (name: string, welcome: Frame): void => {
    const key = name.toLowerCase();
    if (!vars.has(key)) vars.set(key, String(welcome.user.id));
  };
  const actor = (step: LocatedStep): Actor => {
    const a = actors.get(step.name);
    if (!a) throw new Error(`${step.name} has not connected yet`);
    return a;
  };
  const welcomeOf = async (a: Actor): Promise<Frame> => {
    if (!a.welcome) a.welcome = await a.client.next('welcome', () => true, WAIT_MS);
    return a.welcome;
  };
  const resolve = async (text: string): Promise<string> => {
    for (const v of variablesIn(text)) {
      if (vars.has(v)) continue;
      const owner = [...actors.keys()].find((n) => n.toLowerCase() === v);
      if (owner) remember(owner, await welcomeOf(actors.get(owner)!));
    }
    return substitute(text, vars);
  };
  const open = async (name: string, connect: () => Promise<TestClient>, waitWelcome: boolean): Promise<void> => {
    const client = await connect();
    everyClient.push(client);
    const a: Actor = { client, welcome: waitWelcome ? (client.welcome as unknown as Frame) : undefined, welcomeShown: false };
    actors.set(name, a);
    if (a.welcome) remember(name, a.welcome);
  };

  const run = async (step: LocatedStep): Promise<void> => {
    switch (step.kind) {
      case 'connect':
        if (step.query === undefined) {
          await open(step.name, () => server.connect({ name: step.name }), true);
        } else {
          const params = Object.fromEntries(new URLSearchParams((await resolve(step.query)).slice(1)));
          await open(step.name, () => TestClient.open(server.wsUrl, params), false);
        }
        return;
      case 'reconnect': {
        const before = actor(step);
        const token = (await welcomeOf(before)).guestToken;
        if (typeof token !== 'string') throw new Error(`${step.name}'s welcome has no guestToken`);
        await within(before.client.close(), WAIT_MS, 'closing the previous connection');
        await open(step.name, () => server.connect({ guest: token }), true);
        return;
      }
      case 'close':
        await within(actor(step).client.close(), WAIT_MS, 'the close');
        return;
      case 'closed': {
        const { code, reason } = await within(actor(step).client.closed, WAIT_MS, 'a close by the server');
        if (code !== step.code) throw new Error(`closed with ${code} (${reason}), expected ${step.code}`);
        return;
      }
      case 'send':
        actor(step).client.sendRaw(await resolve(step.text));
        return;
      case 'expect': {
        const a = actor(step);
        let expected: unknown;
        const text = await resolve(step.text);
        try {
          expected = JSON.parse(text);
        } catch {
          throw new Error(`the expected frame is not valid JSON: ${text}`);
        }
        const want = expected as Record<string, unknown>;
        if (typeof want.op !== 'string') throw new Error('the expected frame has no "op"');
        let actual: Frame;
        if (want.op === 'welcome' && a.welcome && !a.welcomeShown) {
          actual = a.welcome;
        } else {
          const hasRef = Object.prototype.hasOwnProperty.call(want, 'ref');
          actual = await a.client.next(want.op, (f) => !hasRef || f.ref === want.ref, WAIT_MS);
          if (want.op === 'welcome') {
            a.welcome = actual;
            remember(step.name, actual);
          }
        }
        if (want.op === 'welcome') a.welcomeShown = true;
        const diff = matchFrame(expected, actual);
        if (diff) throw new Error(`${diff}\n  received: ${JSON.stringify(actual)}`);
        return;
      }
    }
  };

  try {
    for (const step of block.steps) {
      try {
        await run(step);
      } catch (err) {
        throw new Error(`${DOC}:${step.line}: ${step.source}\n  ${(err as Error).message}`);
      }
    }
  } finally {
    await Promise.all(everyClient.map((c) => c.close()));
    await server.close();
    removeDir(server.dataDir);
  }
}

describe(`${DOC} examples`, () => {
  it('has at least 12 example blocks', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(12);
  });

  it('sends every request op in some example', () => {
    const sent = new Set<string>();
    for (const b of blocks) {
      for (const s of b.steps) {
        if (s.kind !== 'send') continue;
        try {
          const frame = JSON.parse(s.text.replace(/\$[a-z][a-z0-9]*/g, 'x')) as { op?: unknown };
          if (typeof frame.op === 'string') sent.add(frame.op);
        } catch {
          // A frame that is deliberately not JSON.
        }
      }
    }
    const missing = Object.keys(REQUEST_SCHEMAS).filter((op) => !sent.has(op));
    expect(missing, `ops with no "→" example in ${DOC}`).toEqual([]);
  });

  for (const block of blocks) {
    it(`${DOC}:${block.line} (${block.heading})`, () => runBlock(block));
  }
});

describe('matchFrame', () => {
  it('accepts a frame with every expected key and value, and extra keys', () => {
    expect(matchFrame({ op: 'reply', ref: 1, ok: true }, { op: 'reply', ref: 1, ok: true, seq: 4 })).toBeNull();
    expect(matchFrame({ a: { b: [1, { c: null }] } }, { a: { b: [1, { c: null, d: 2 }], e: 3 } })).toBeNull();
  });

  it('names the first difference by its path', () => {
    expect(matchFrame({ room: { title: 'Main' } }, { room: { title: 'Lobby' } })).toBe(
      'at "room.title": expected "Main", got "Lobby"',
    );
    expect(matchFrame({ ok: true, error: { code: 'x' } }, { ok: true })).toBe('at "error": missing (expected {"code":"x"})');
    expect(matchFrame({ seq: 1 }, { seq: '1' })).toBe('at "seq": expected 1, got "1"');
    expect(matchFrame({ a: { b: 1 } }, { a: 'b' })).toBe('at "a": expected an object, got "b"');
    expect(matchFrame({ a: [1] }, { a: { 0: 1 } })).toBe('at "a": expected an array, got {"0":1}');
  });

  it('treats "…" as any value and "prefix…" as any string with that prefix', () => {
    for (const v of [0, 'x', null, false, { a: 1 }, [1]]) expect(matchFrame({ ts: '…' }, { ts: v })).toBeNull();
    expect(matchFrame({ ts: '…' }, {})).toBe('at "ts": missing (expected "…")');
    expect(matchFrame({ id: 'u_…' }, { id: 'u_81c2' })).toBeNull();
    expect(matchFrame({ id: 'u_…' }, { id: 'r-81c2' })).toBe('at "id": expected a string starting with "u_", got "r-81c2"');
    expect(matchFrame({ id: 'u_…' }, { id: 7 })).toBe('at "id": expected a string starting with "u_", got 7');
    expect(matchFrame({ m: 'room "x" does not exist…' }, { m: 'room "x" does not exist; create it' })).toBeNull();
  });

  it('matches arrays element-wise, with a trailing "…" allowing more elements', () => {
    expect(matchFrame([1, 2], [1, 2])).toBeNull();
    expect(matchFrame([1, 2], [1, 2, 3])).toBe('at the frame: expected 2 elements, got 3: [1,2,3]');
    expect(matchFrame([1, '…'], [1, 2, 3])).toBeNull();
    expect(matchFrame([1, '…'], [1])).toBeNull();
    expect(matchFrame([1, 2, '…'], [1])).toBe('at the frame: expected at least 2 elements, got 1: [1]');
    expect(matchFrame({ m: [{ seq: 2 }, { seq: 3 }] }, { m: [{ seq: 3 }, { seq: 2 }] })).toBe('at "m[0].seq": expected 2, got 3');
    expect(matchFrame({ rooms: [] }, { rooms: [{ id: 'lobby' }] })).toBe('at "rooms": expected 0 elements, got 1: [{"id":"lobby"}]');
  });
});

describe('parseExamples and substitute', () => {
  const md = [
    '# Title',
    '## Joining',
    '```json',
    'Alice → {"op":"ignored"}',
    '```',
    '```example',
    'server --max-text 10',
    '# a comment',
    'Alice connects',
    'Eve connects ?name=%20',
    'Alice → {"op":"dm","to":"$bob","text":"hi"}',
    'Alice ← {"op":"reply","ok":true}',
    'Alice closes',
    'Alice reconnects',
    'Eve closed 4400',
    '```',
  ].join('\n');

  it('extracts blocks with their heading, server flags and steps', () => {
    const [block, ...rest] = parseExamples(md);
    expect(rest).toEqual([]);
    expect(block).toMatchObject({ line: 6, heading: 'Joining', serverFlags: { 'max-text': '10' } });
    expect(block!.steps.map((s) => [s.line, s.kind, s.name])).toEqual([
      [9, 'connect', 'Alice'],
      [10, 'connect', 'Eve'],
      [11, 'send', 'Alice'],
      [12, 'expect', 'Alice'],
      [13, 'close', 'Alice'],
      [14, 'reconnect', 'Alice'],
      [15, 'closed', 'Eve'],
    ]);
    expect(block!.steps[1]).toMatchObject({ query: '?name=%20' });
    expect(block!.steps[6]).toMatchObject({ code: 4400 });
  });

  it('rejects lines that are not in the format, quoting where', () => {
    expect(() => parseExamples('```example\nAlice sends hi\n```', 'x.md')).toThrow('x.md:2: not an example line: Alice sends hi');
    expect(() => parseExamples('```example\nAlice connects\nserver --rate 1\n```')).toThrow('must come first');
    expect(() => parseExamples('```example\nAlice connects\n')).toThrow('not closed');
  });

  it('substitutes $name variables and refuses unknown ones', () => {
    expect(variablesIn('{"to":"$bob","x":"$carol2"}')).toEqual(['bob', 'carol2']);
    expect(substitute('{"to":"$bob"}', new Map([['bob', 'u_123']]))).toBe('{"to":"u_123"}');
    expect(() => substitute('{"to":"$dave"}', new Map())).toThrow('unknown variable $dave');
  });
});
