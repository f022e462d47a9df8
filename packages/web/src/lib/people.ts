import { computed, shallowReactive } from 'vue';
import { nameTags, tagged, type Person } from './name-tags.js';
import { store } from './store.js';

// The people this page knows of (me, every room's members and roster, direct-message peers, the
// senders of shown messages) and their same-name tags (name-tags.ts), as one computed map, so
// "Alice #4821" reads the same in messages, the member list, typing, mentions and the DM list.
//
// Every message line shows a name, so this must not make them all render again whenever a
// message arrives: senders are noted once each (a new person is rare, a new message is not), and
// the map keeps its identity while the tags stay the same.

/** Message senders seen on this page, once per id and name. */
const senders = shallowReactive(new Map<string, Person>());

/** Notes who sent a message (timeline.ts, for each message shown). */
export function noteSender(p: Person): void {
  const key = `${p.id}\n${p.name}`;
  if (!senders.has(key)) senders.set(key, { id: p.id, name: p.name });
}

function same(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

const tags = computed<Map<string, string>>((previous) => {
  const people: Person[] = [...senders.values()];
  if (store.me) people.push(store.me);
  for (const r of Object.values(store.rooms)) {
    people.push(...r.members, ...r.roster);
    if (r.peer) people.push(r.peer);
  }
  const next = nameTags(people);
  return previous && same(previous, next) ? previous : next;
});

/** The name to show for a user: "Alice #4821" when someone else is called Alice too. */
export function who(p: Person): string {
  return tagged(p, tags.value);
}

/** Just the tag ("4821"), or undefined for a name nobody else has. */
export function tagFor(id: string): string | undefined {
  return tags.value.get(id);
}
