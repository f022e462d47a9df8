import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomcastClient } from '../src/client.js';
import { collect, connect, serverPerSuite, tempDir } from './helpers.js';

// A message the server changed before storing it (the word filter's mask here; a moderation
// hook's replacement the same way): the sender's own copy and the send's result show what was
// stored, as everyone else sees it, not what was typed.

const words = join(tempDir(), 'words.txt');
writeFileSync(words, 'badword\n');

describe('a send the server changed', () => {
  const server = serverPerSuite({ filterWords: words });
  const clients: RoomcastClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it("gives the sender the stored text, in the send's result and in their own copy", async () => {
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const bob = await connect(server.wsUrl, { name: 'Bob' }, clients);
    const room = await alice.create();
    const own = collect(room);
    const seen = collect(await bob.join(room.id));
    const result = await room.send('a BADWORD here');
    expect(result.text).toBe('a ******* here');
    const [mine] = await own.until(1);
    const [theirs] = await seen.until(1);
    expect(theirs?.text).toBe('a ******* here');
    expect(mine).toMatchObject({ mine: true, text: 'a ******* here' });
    // An unchanged message carries no text in the result: the typed one is the stored one.
    expect((await room.send('all fine')).text).toBeUndefined();
  });
});
