// Runs of join/leave notices merged into one line: "Bob and 小明 joined", "Bob, Carol and 2
// others left". Pure functions, no store: the words come in as templates (i18n-en.ts/i18n-zh.ts).

export interface PresenceNotice {
  event: 'join' | 'leave';
  /** Who: the user id when known (two users may share a name), else the name stands in. */
  id: string;
  name: string;
}

export interface RunSummary {
  joined: string[];
  left: string[];
}

/**
 * What a run of consecutive notices comes to, person by person, in the order each first
 * appears. Only the change counts: someone who joined and then left within the run was never
 * really there for the reader, and someone who left and came back (a reload, a network blip) is
 * where they were; either way the pair cancels out. Three events (join, leave, join) are one join.
 */
export function summarize(run: readonly PresenceNotice[]): RunSummary {
  const first = new Map<string, PresenceNotice>();
  const last = new Map<string, PresenceNotice>();
  for (const n of run) {
    if (!first.has(n.id)) first.set(n.id, n);
    last.set(n.id, n);
  }
  const out: RunSummary = { joined: [], left: [] };
  for (const [id, f] of first) {
    const l = last.get(id)!;
    // Before the run they were in if the first event was a leave; after it, if the last is a join.
    const wasIn = f.event === 'leave';
    const isIn = l.event === 'join';
    if (wasIn === isIn) continue;
    (isIn ? out.joined : out.left).push(l.name);
  }
  return out;
}

/** The list templates of one language: `{a}`, `{b}`, `{c}`, `{n}` are filled in. */
export interface ListWords {
  two: string;
  three: string;
  many: string;
}

function fill(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => (k in params ? String(params[k]) : `{${k}}`));
}

/** "Bob", "Bob and Carol", "Bob, Carol and Dan", "Bob, Carol and 2 others". */
export function nameList(names: readonly string[], words: ListWords): string {
  const [a = '', b = '', c = ''] = names;
  if (names.length <= 1) return a;
  if (names.length === 2) return fill(words.two, { a, b });
  if (names.length === 3) return fill(words.three, { a, b, c });
  return fill(words.many, { a, b, n: names.length - 2 });
}

/** The sentence templates of one language: `{name}` is filled with a name list. */
export interface NoticeWords extends ListWords {
  joined: string;
  left: string;
  /** Between "… joined" and "… left" on one line. */
  sep: string;
}

/** The one line for a run, or '' when everything in it cancelled out. */
export function runText(run: readonly PresenceNotice[], words: NoticeWords): string {
  const s = summarize(run);
  const parts: string[] = [];
  if (s.joined.length) parts.push(fill(words.joined, { name: nameList(s.joined, words) }));
  if (s.left.length) parts.push(fill(words.left, { name: nameList(s.left, words) }));
  return parts.join(words.sep);
}
