import { describe, expect, it } from 'vitest';
import { ChatError } from '../../src/core/errors.js';
import { chainGates, MAX_WAITING_PER_ROOM, MessageGate, type BeforeMessage, type GateInput, type GateVerdict } from '../../src/core/message-gate.js';

// The gate on its own: the chain of gates, and per-room order whatever order verdicts come in.

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const input = (text: string, room = 'r'): GateInput => ({ kind: 'message', room, from: { id: 'u', name: 'U' }, text, direct: false });

/** A gate whose verdicts the test hands out one by one, in any order. */
function heldGate() {
  const held = new Map<string, (v: GateVerdict) => void>();
  const check: BeforeMessage = (i) => new Promise((resolve) => held.set(i.text, resolve));
  return { check, answer: (text: string, v: GateVerdict = { action: 'allow' }) => (held.get(text) as (v: GateVerdict) => void)(v), held };
}

describe('chainGates', () => {
  it('passes each gate the text the one before let through, and stops at a reject', async () => {
    const seen: string[] = [];
    const upper: BeforeMessage = (i) => ({ action: 'replace', text: i.text.toUpperCase() });
    const spy: BeforeMessage = async (i) => {
      seen.push(i.text);
      return i.text.includes('NO') ? { action: 'reject', reason: 'no' } : { action: 'allow' };
    };
    const chain = chainGates([upper, spy]) as BeforeMessage;
    expect(await chain(input('hello'))).toEqual({ action: 'replace', text: 'HELLO' });
    expect(await chain(input('say no'))).toEqual({ action: 'reject', reason: 'no' });
    expect(seen).toEqual(['HELLO', 'SAY NO']);
    expect(chainGates([])).toBeUndefined();
  });

  it('stays synchronous when every gate is', () => {
    const chain = chainGates([() => ({ action: 'allow' }), (i) => ({ action: 'replace', text: `${i.text}!` })]) as BeforeMessage;
    expect(chain(input('a'))).toEqual({ action: 'replace', text: 'a!' });
  });
});

describe('MessageGate', () => {
  it('releases a room\'s posts in arrival order when verdicts come back in reverse', async () => {
    const g = heldGate();
    const gate = new MessageGate(g.check, 100, silent);
    const released: string[] = [];
    const texts = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const done = texts.map((t) => gate.pass('r', input(t), async (text) => void released.push(text ?? t)));
    // Every verdict was asked for at once, not one after another.
    await Promise.resolve();
    expect(g.held.size).toBe(20);
    for (const t of [...texts].reverse()) g.answer(t, t === 'm3' ? { action: 'replace', text: 'M3' } : { action: 'allow' });
    await Promise.all(done);
    expect(released).toEqual(texts.map((t) => (t === 'm3' ? 'M3' : t)));
    expect(gate.waiting).toBe(0);
  });

  it('does not hold one room behind another', async () => {
    const g = heldGate();
    const gate = new MessageGate(g.check, 100, silent);
    const released: string[] = [];
    const slow = gate.pass('a', input('slow', 'a'), async () => void released.push('slow'));
    const fast = gate.pass('b', input('fast', 'b'), async () => void released.push('fast'));
    g.answer('fast');
    await fast;
    expect(released).toEqual(['fast']);
    g.answer('slow');
    await slow;
    expect(released).toEqual(['fast', 'slow']);
  });

  it('a reject refuses with code rejected, and the posts after it still go in order', async () => {
    const g = heldGate();
    const gate = new MessageGate(g.check, 100, silent);
    const released: string[] = [];
    const one = gate.pass('r', input('one'), async () => void released.push('one'));
    const two = gate.pass('r', input('two'), async () => void released.push('two'));
    const binary = gate.pass('r', null, async () => void released.push('binary'));
    const refused = two.catch((e: unknown) => e);
    g.answer('two', { action: 'reject', reason: 'not two' });
    g.answer('one');
    const err = await refused;
    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).code).toBe('rejected');
    expect((err as ChatError).message).toBe('not two');
    await Promise.all([one, binary]);
    expect(released).toEqual(['one', 'binary']);
  });

  it('a throwing or misbehaving beforeMessage refuses with unavailable, a ChatError passes as is', async () => {
    const verdicts: Array<() => GateVerdict> = [
      () => {
        throw new Error('bug');
      },
      () => ({ action: 'replace', text: 'x'.repeat(101) }),
      () => ({ action: 'replace', text: 'a\u0000b' }),
      () => ({ action: 'maybe' }) as unknown as GateVerdict,
      () => {
        throw new ChatError('forbidden', 'not you');
      },
    ];
    for (const [i, v] of verdicts.entries()) {
      const gate = new MessageGate(() => v(), 100, silent);
      const err = (await gate.pass('r', input('t'), async () => 'stored').catch((e: unknown) => e)) as ChatError;
      expect(err.code).toBe(i === 4 ? 'forbidden' : 'unavailable');
    }
  });

  it(`holds at most ${MAX_WAITING_PER_ROOM} posts of a room; past that it refuses with unavailable, other rooms go on`, async () => {
    const { check, answer } = heldGate();
    const gate = new MessageGate(check, 100, silent);
    const waiting = Array.from({ length: MAX_WAITING_PER_ROOM }, (_, i) => gate.pass('r', input(`t${i}`), async () => i));
    const err = (await gate.pass('r', input('one too many'), async () => -1).catch((e: unknown) => e)) as ChatError;
    expect(err.code).toBe('unavailable');
    const other = gate.pass('s', input('elsewhere', 's'), async () => 'other');
    answer('elsewhere');
    expect(await other).toBe('other');
    for (let i = 0; i < MAX_WAITING_PER_ROOM; i++) answer(`t${i}`);
    expect((await Promise.all(waiting)).length).toBe(MAX_WAITING_PER_ROOM);
    // Drained: the room takes posts again.
    const again = gate.pass('r', input('again'), async () => 'again');
    answer('again');
    expect(await again).toBe('again');
  });
});
