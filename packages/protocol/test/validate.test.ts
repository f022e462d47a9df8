import { describe, expect, it } from 'vitest';
import { ROOM_ID_PATTERN } from '../src/ids.js';
import { REQUEST_SCHEMAS, type RequestOp } from '../src/schemas.js';
import { REQUEST_OPS, refOf, validateBinaryHeader, validateRequest } from '../src/validate.js';

/** A minimal valid request per op; typed so that a new op fails the type-check until it is added. */
const MINIMAL: Record<RequestOp, Record<string, unknown>> = {
  auth: { token: 't' },
  create: {},
  join: { room: 'lobby' },
  leave: { room: 'lobby' },
  send: { room: 'lobby', text: '' },
  dm: { to: 'u_1', text: 'hi' },
  edit: { room: 'lobby', seq: 1, text: 'x' },
  unsend: { room: 'lobby', seq: 1 },
  react: { room: 'lobby', seq: 1, emoji: '👍' },
  search: { q: 'x' },
  history: { room: 'lobby' },
  read: { room: 'lobby', seq: 0 },
  typing: { room: 'lobby' },
  rooms: {},
  members: { room: 'lobby' },
  invite: { room: 'lobby', user: 'u_1' },
  kick: { room: 'lobby', user: 'u_1' },
  share: { room: 'lobby' },
  filekey: {},
  update: { room: 'lobby' },
  delete: { room: 'lobby' },
  ping: {},
  role: { room: 'lobby', user: 'u_1', role: 'admin' },
  ban: { room: 'lobby', user: 'u_1' },
  unban: { room: 'lobby', user: 'u_1' },
  mute: { room: 'lobby', user: 'u_1' },
  unmute: { room: 'lobby', user: 'u_1' },
};

function messageOf(value: unknown): string {
  const v = validateRequest(value);
  if (v.ok) throw new Error(`accepted ${JSON.stringify(value)}`);
  return v.message;
}

describe('validateRequest', () => {
  it('accepts a minimal example of every op, with or without a ref', () => {
    expect(Object.keys(MINIMAL).sort()).toEqual(Object.keys(REQUEST_SCHEMAS).sort());
    expect([...REQUEST_OPS].sort()).toEqual(Object.keys(REQUEST_SCHEMAS).sort());
    for (const op of REQUEST_OPS) {
      const frame = { op, ...MINIMAL[op] };
      expect(validateRequest(frame), op).toEqual({ ok: true, value: frame });
      expect(validateRequest({ ...frame, ref: 'r-1' }).ok, op).toBe(true);
      expect(validateRequest({ ...frame, ref: 42 }).ok, op).toBe(true);
    }
  });

  it('accepts the optional fields', () => {
    const ok = [
      { op: 'create', room: 'a.b:c-d_e', title: 'T', capacity: 3, visibility: 'private', persist: false },
      { op: 'join', room: 'Z9', since: 0, history: 1000 },
      { op: 'send', room: 'r', text: 'x', id: 'c1', meta: { any: [1, { deep: true }] } },
      { op: 'update', room: 'r', capacity: null },
      { op: 'rooms', scope: 'public' },
      { op: 'history', room: 'r', before: 1, limit: 200 },
      { op: 'join', room: 'r', invite: 'eyJ.x.y' },
      { op: 'share', room: 'r', ttl: 60 },
      { op: 'share', room: 'r', ttl: 30 * 86_400 },
    ];
    for (const frame of ok) expect(validateRequest(frame), frame.op).toEqual({ ok: true, value: frame });
  });

  it('refuses non-objects, a missing or non-string op, and unknown ops', () => {
    for (const v of [null, 42, 'ping', [], [{ op: 'ping' }]]) expect(messageOf(v)).toBe('a frame must be a JSON object with an "op" field');
    expect(messageOf({})).toBe('a frame must have a string "op" field');
    expect(messageOf({ op: 5 })).toBe('a frame must have a string "op" field');
    const unknown = messageOf({ op: 'shout' });
    expect(unknown).toMatch(/^unknown op "shout"; the ops are: auth, create, join/);
    for (const op of REQUEST_OPS) expect(unknown).toContain(op);
    expect(messageOf({ op: 'x'.repeat(100) })).toContain(`"${'x'.repeat(32)}"`);
    expect(messageOf({ op: 'toString' })).toMatch(/^unknown op "toString"/);
  });

  it('names the field that is missing or has the wrong type', () => {
    expect(messageOf({ op: 'join' })).toMatch(/^field "room" of "join": /);
    expect(messageOf({ op: 'join', room: 5 })).toMatch(/^field "room" of "join": expected string/);
    expect(messageOf({ op: 'send', room: 'r', text: 1 })).toMatch(/^field "text" of "send"/);
    expect(messageOf({ op: 'send', room: 'r', text: 'x', meta: 5 })).toMatch(/^field "meta" of "send"/);
    expect(messageOf({ op: 'send', room: 'r', text: 'x', id: '' })).toMatch(/^field "id" of "send"/);
    expect(messageOf({ op: 'read', room: 'r', seq: -1 })).toMatch(/^field "seq" of "read"/);
    expect(messageOf({ op: 'read', room: 'r', seq: 1.5 })).toMatch(/^field "seq" of "read"/);
    expect(messageOf({ op: 'create', visibility: 'secret' })).toMatch(/^field "visibility" of "create"/);
    expect(messageOf({ op: 'create', capacity: 0 })).toMatch(/^field "capacity" of "create"/);
    expect(messageOf({ op: 'history', room: 'r', limit: 201 })).toMatch(/^field "limit" of "history"/);
    expect(messageOf({ op: 'dm', to: '', text: 'x' })).toMatch(/^field "to" of "dm"/);
    expect(messageOf({ op: 'ping', ref: 1.5 })).toMatch(/^field "ref" of "ping"/);
    expect(messageOf({ op: 'ping', ref: 'x'.repeat(65) })).toMatch(/^field "ref" of "ping"/);
  });

  it('checks room ids against ROOM_ID_PATTERN', () => {
    for (const room of ['a', 'A-1', '9_x.y:z', 'a'.repeat(64)]) expect(validateRequest({ op: 'join', room }).ok, room).toBe(true);
    for (const room of ['', '-a', '.a', 'a b', 'a/b', 'a'.repeat(65), 'é']) expect(messageOf({ op: 'join', room })).toMatch(/^field "room" of "join"/);
  });

  it('quotes the room id pattern unchanged in the error', () => {
    // The message is lower-cased as a whole, which turns [A-Za-z0-9] into [a-za-z0-9].
    expect(messageOf({ op: 'join', room: '-bad' })).toContain(ROOM_ID_PATTERN);
  });
});

describe('validateBinaryHeader', () => {
  it('accepts send and dm headers with a mime type', () => {
    const send = { op: 'send', room: 'r', mime: 'image/png', name: 'a.png', id: 'c1', ref: 3, meta: { w: 1 } };
    expect(validateBinaryHeader(send)).toEqual({ ok: true, value: send });
    expect(validateBinaryHeader({ op: 'dm', to: 'u_1', mime: 'application/vnd.x+json' }).ok).toBe(true);
  });

  it('refuses other ops, non-objects, and a missing or bad mime or name', () => {
    const notSendOrDm = 'a binary frame header must have "op": "send" or "dm"';
    const bad = (v: unknown) => {
      const r = validateBinaryHeader(v);
      return r.ok ? 'accepted' : r.message;
    };
    expect(bad({ op: 'join', room: 'r', mime: 'a/b' })).toBe(notSendOrDm);
    expect(bad({ room: 'r', mime: 'a/b' })).toBe(notSendOrDm);
    expect(bad([])).toBe('a binary frame header must be a JSON object with an "op" field');
    expect(bad(null)).toBe('a binary frame header must be a JSON object with an "op" field');
    expect(bad({ op: 'send', room: 'r' })).toMatch(/^field "mime" of "send"/);
    expect(bad({ op: 'send', room: 'r', mime: 'image' })).toMatch(/^field "mime" of "send"/);
    expect(bad({ op: 'send', room: 'r', mime: 'a/b', name: '' })).toMatch(/^field "name" of "send"/);
    expect(bad({ op: 'dm', mime: 'a/b' })).toMatch(/^field "to" of "dm"/);
  });
});

describe('refOf', () => {
  it('returns a usable ref and nothing else', () => {
    expect(refOf({ ref: 'abc' })).toBe('abc');
    expect(refOf({ ref: 'x'.repeat(64) })).toBe('x'.repeat(64));
    expect(refOf({ ref: 0 })).toBe(0);
    expect(refOf({ ref: -5 })).toBe(-5);
    for (const v of [{ ref: 'x'.repeat(65) }, { ref: 1.5 }, { ref: null }, { ref: {} }, { ref: true }, {}, null, 'ref', [1], { ref: Number.NaN }]) {
      expect(refOf(v), JSON.stringify(v)).toBeUndefined();
    }
  });
});

describe('frames in the tutorials\' vocabulary', () => {
  const lead = 'unknown field "type": roomcast frames name their operation in "op"';

  it('says to use "op" when a frame names its operation in "type"', () => {
    expect(messageOf({ type: 'create', room: 'lobby' })).toBe(`${lead}, e.g. {"op":"create"}`);
    expect(messageOf({ type: 'join', room: 'lobby' })).toBe(`${lead}, e.g. {"op":"join"}`);
    expect(messageOf({ type: 5 })).toBe(`${lead}, e.g. {"op":"send"}`);
    expect(messageOf({ type: 'shout' })).toMatch(new RegExp(`^${lead.replace(/[(){}"]/g, '\\$&')}, e.g. \\{"op":"send"\\}; the ops are: auth, create, join`));
    // A frame with an "op" is judged by its op; "type" is then just an unknown field, ignored.
    expect(validateRequest({ op: 'ping', type: 'ping' }).ok).toBe(true);
  });

  it('maps the tutorials\' words to roomcast ops', () => {
    expect(messageOf({ type: 'enter', room: 'lobby' })).toBe(`${lead}: "enter" is {"op":"join"} in roomcast`);
    expect(messageOf({ type: 'out' })).toBe(`${lead}: "out" is {"op":"leave"} in roomcast`);
    expect(messageOf({ type: 'message', text: 'hi' })).toBe(`${lead}: "message" is {"op":"send"} in roomcast`);
    expect(messageOf({ type: 'chat' })).toBe(`${lead}: "chat" is {"op":"send"} in roomcast`);
    expect(messageOf({ type: 'private' })).toBe(`${lead}: "private" is {"op":"dm"} in roomcast`);
    expect(messageOf({ type: 'heartbeat' })).toBe(`${lead}: "heartbeat" is {"op":"ping"} in roomcast`);
    expect(messageOf({ type: 'users' })).toBe(`${lead}: "users" is {"op":"members"} in roomcast`);
    expect(messageOf({ op: 'enter', room: 'lobby' })).toMatch(/^unknown op "enter" \("enter" is "join" in roomcast\); the ops are: auth/);
    expect(messageOf({ op: 'message' })).toMatch(/^unknown op "message" \("message" is "send" in roomcast\); the ops are: /);
    // Inherited names are not words of the table.
    expect(messageOf({ type: 'toString' })).toMatch(/e\.g\. \{"op":"send"\}; the ops are: /);
    expect(messageOf({ op: 'constructor' })).toMatch(/^unknown op "constructor"; the ops are: /);
  });

  it('explains that the online count comes without asking', () => {
    const online = 'the online count is "online" in the join and create replies and in every presence event; nothing needs asking';
    expect(messageOf({ type: 'userCount' })).toBe(`${lead}; there is no "userCount" request: ${online}`);
    expect(messageOf({ op: 'userCount' })).toMatch(new RegExp(`^unknown op "userCount" \\(${online.replace(/"/g, '\\"')}\\); the ops are: `));
  });

  it('says the same of a binary frame header', () => {
    const r = validateBinaryHeader({ type: 'send', room: 'r', mime: 'a/b' });
    expect(r).toEqual({ ok: false, message: 'unknown field "type": a binary frame header names its operation in "op": "send" or "dm"' });
  });
});
