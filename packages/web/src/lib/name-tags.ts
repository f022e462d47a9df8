// Same-name users told apart: two people called "Alice" show as "Alice #4821" and "Alice #0375".
// Pure functions, no store.
//
// The tag is derived from the user id (a hash of it), not from the order people joined a room.
// That is what makes it stable: the same person has the same tag for every viewer, in every
// room, in the direct-message list and after any reload, and nobody's tag changes when another
// Alice leaves (an order-based "#2" would become "#1", and would differ from room to room).
// Only names shared by two or more users get a tag; a unique name shows as it is.

export interface Person {
  id: string;
  name: string;
}

/** The form in which two names count as "the same" to a reader: "alice" and "Alice " too. */
export function nameKey(name: string): string {
  return name.normalize('NFKC').trim().toLocaleLowerCase('en');
}

/** FNV-1a, 32 bits: small, fast and well spread for short strings such as ids. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The tag of a user id: `digits` decimal digits of its hash ("4821"). */
export function tagOf(id: string, digits = 4): string {
  const mod = 10 ** digits;
  return String(fnv1a(id) % mod).padStart(digits, '0');
}

/**
 * The tags of the users whose name someone else also has, by user id. Within one name, if two
 * ids hash to the same four digits (1 in 10,000 for a pair), that name's users all get six, then
 * eight: still the same for every viewer who knows the same people.
 */
export function nameTags(people: Iterable<Person>): Map<string, string> {
  const byName = new Map<string, Set<string>>();
  for (const p of people) {
    const k = nameKey(p.name);
    let ids = byName.get(k);
    if (!ids) byName.set(k, (ids = new Set()));
    ids.add(p.id);
  }
  const out = new Map<string, string>();
  for (const ids of byName.values()) {
    if (ids.size < 2) continue;
    for (const digits of [4, 6, 8]) {
      const tags = [...ids].map((id) => tagOf(id, digits));
      if (new Set(tags).size === tags.length || digits === 8) {
        [...ids].forEach((id, i) => out.set(id, tags[i]!));
        break;
      }
    }
  }
  return out;
}

/** "Alice #4821" for a tagged user, the plain name otherwise. */
export function tagged(p: Person, tags: ReadonlyMap<string, string>): string {
  const tag = tags.get(p.id);
  return tag ? `${p.name} #${tag}` : p.name;
}
