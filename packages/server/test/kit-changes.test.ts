import { afterEach, describe, expect, it } from 'vitest';
import type { AppendInput, AppendResult } from '../src/store/store.js';
import { startKit, type KitCluster } from './kit/cluster.js';

// Changes to messages while the store is silent (not down) mid-commit: nothing is announced
// before it is stored, nothing is lost or doubled once the store answers, and the counts come
// out as if nothing had happened.

describe('kit: message changes while the store is silent', () => {
  let kit: KitCluster | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  it('announces nothing while appends hang, then every change once, in seq order, with the right counts', async () => {
    const k = (kit = await startKit({ nodes: 2 }));
    const [a, b] = k.nodes as [KitCluster['nodes'][number], KitCluster['nodes'][number]];
    const alice = await a.connect('Alice');
    const bob = await b.connect('Bob');
    const carol = await b.connect('Carol');
    await alice.ok('create', { room: 'r' });
    await bob.ok('join', { room: 'r' });
    await carol.ok('join', { room: 'r' });
    await alice.ok('send', { room: 'r', text: 'vote' });
    expect((await carol.next('msg')).seq).toBe(1);

    // Appends go silent: they neither commit nor fail.
    const store = k.store as unknown as { append: (i: AppendInput) => Promise<AppendResult> };
    const append = store.append.bind(store);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    store.append = async (input) => {
      await gate;
      return append(input);
    };
    alice.send({ op: 'edit', ref: 'e', room: 'r', seq: 1, text: 'vote!' });
    for (const [c, i] of [bob, carol, bob].map((c, i) => [c, i] as const)) {
      c.send({ op: 'react', ref: `r${i}`, room: 'r', seq: 1, emoji: '👍', on: true });
    }
    // The unsend after the reactions reached the store: each request reads the sender's mute
    // first (moderation), so requests of different connections sent at once may reach it in any order.
    await bob.barrier();
    await carol.barrier();
    alice.send({ op: 'unsend', ref: 'u', room: 'r', seq: 1 });
    await alice.barrier();
    // Nothing stored yet, so nothing told: no event, no reply.
    for (const c of [alice, bob, carol]) {
      for (const op of ['edit', 'reaction', 'unsend']) expect(c.take(op)).toEqual([]);
    }
    expect(alice.take('reply').filter((f) => f.ref === 'e' || f.ref === 'u')).toEqual([]);

    open();
    expect(await alice.next('reply', (f) => f.ref === 'e')).toMatchObject({ ok: true, seq: 2 });
    expect(await alice.next('reply', (f) => f.ref === 'u')).toMatchObject({ ok: true, target: 1 });
    const changeOps = ['edit', 'reaction', 'unsend'];
    const unsend = await carol.next('unsend');
    // What came before the unsend, in arrival order.
    const seen = [...carol.conn.frames.filter((f) => changeOps.includes(String(f.op))), unsend];
    for (const op of changeOps) carol.take(op);
    // Bob's second 👍 was already given: no event for it.
    expect(seen.map((f) => [f.seq, f.op, f.count])).toEqual([
      [2, 'edit', undefined],
      [3, 'reaction', 1],
      [4, 'reaction', 2],
      [5, 'unsend', undefined],
    ]);
    await carol.barrier();
    expect(changeOps.flatMap((op) => carol.take(op))).toEqual([]);
    expect((await k.store.getMessage('r', 1))?.unsent).toBe(true);
  });
});
