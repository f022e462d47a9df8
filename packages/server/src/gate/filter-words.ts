// The word filter's matcher: a trie of the listed words and phrases, folded (NFKD, marks dropped,
// then lower case) one character at a time, so ｆｕｃｋ, FUCK and Fuck all meet `fuck`; the folded text keeps
// where each of its characters came from, so a match masks the text as it was written.
// A scan starts a walk at each folded character: O(text × longest word), a few hundred thousand
// steps for a 4,000-character message, whatever the size of the list.

/** A part of the original text, in UTF-16 units: [start, end). */
export interface Span {
  start: number;
  end: number;
}

interface TrieNode {
  next: Map<number, TrieNode>;
  /** A listed word ends here. */
  end: boolean;
}

/**
 * Dropped, so they cannot split a word: format characters (\p{Cf}: zero-width space, joiners,
 * soft hyphen, bidi and tag characters), combining marks (\p{M}, after NFKD: accents written on a
 * letter, U+034F, variation selectors U+FE00–FE0F and U+E0100–E01EF), and the Hangul fillers
 * U+115F U+1160 U+3164 U+FFA0. Spaces (\p{Zs}) are kept, as U+0020 (NFKD maps most), so a listed
 * phrase still needs its spaces and two words side by side are not taken for one.
 */
const IGNORED = /^[\p{Cf}\p{M}\u115F\u1160\u3164\uFFA0]$/u;
const SPACE = /^\p{Zs}$/u;

/** One character of a text, folded: its code points, and the span of the original it came from. */
function* folded(text: string): Generator<{ cp: number; start: number; end: number }> {
  let at = 0;
  for (const ch of text) {
    const start = at;
    at += ch.length;
    if (IGNORED.test(ch)) continue;
    for (const f of ch.normalize('NFKD').toLowerCase()) {
      if (!IGNORED.test(f)) yield { cp: SPACE.test(f) ? 0x20 : (f.codePointAt(0) as number), start, end: at };
    }
  }
}

/** A text folded as the word list is (for the presets), with where each UTF-16 unit came from. */
export interface FoldedText {
  text: string;
  start: number[];
  end: number[];
}

export function foldText(text: string): FoldedText {
  const out: FoldedText = { text: '', start: [], end: [] };
  for (const c of folded(text)) {
    const s = String.fromCodePoint(c.cp);
    out.text += s;
    for (let i = 0; i < s.length; i++) {
      out.start.push(c.start);
      out.end.push(c.end);
    }
  }
  return out;
}

/** A span of the folded text as the span of the original it came from. */
export function unfold(f: FoldedText, s: Span): Span {
  return { start: f.start[s.start] as number, end: f.end[s.end - 1] as number };
}

/** A word as the trie keys it: its folded code points. */
export function foldWord(word: string): number[] {
  return [...folded(word)].map((c) => c.cp);
}

/** Why a listed line cannot be a word, or null when it can. */
export function badWord(word: string): string | null {
  const cps = foldWord(word);
  if (cps.length === 0) return 'it has no visible characters';
  // A masked character is `*`: a word containing one could be found again in masked text.
  if (cps.includes(0x2a)) return 'it contains "*", the masking character';
  return null;
}

export class WordMatcher {
  private readonly root: TrieNode = { next: new Map(), end: false };
  private count = 0;

  /** Words that `badWord` accepts; others are skipped (the loader reports them). */
  constructor(words: Iterable<string>) {
    for (const w of words) if (badWord(w) === null) this.add(foldWord(w));
  }

  get size(): number {
    return this.count;
  }

  private add(cps: number[]): void {
    let node = this.root;
    for (const cp of cps) {
      let child = node.next.get(cp);
      if (!child) {
        child = { next: new Map(), end: false };
        node.next.set(cp, child);
      }
      node = child;
    }
    if (!node.end) this.count++;
    node.end = true;
  }

  /** Every listed word in `text` (overlapping ones included), as spans of the original text. */
  find(text: string): Span[] {
    if (this.count === 0) return [];
    const chars = [...folded(text)];
    const out: Span[] = [];
    for (let i = 0; i < chars.length; i++) {
      let node: TrieNode | undefined = this.root;
      let longest = -1;
      for (let j = i; j < chars.length; j++) {
        node = node.next.get((chars[j] as { cp: number }).cp);
        if (!node) break;
        if (node.end) longest = j;
      }
      // The longest word from here covers the shorter ones that start here.
      if (longest >= 0) out.push({ start: (chars[i] as { start: number }).start, end: (chars[longest] as { end: number }).end });
    }
    return out;
  }
}

/**
 * `text` with every code point inside a span replaced by `*`: the length in code points is kept,
 * and surrogate pairs are masked whole.
 */
export function maskSpans(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  const hidden = new Uint8Array(text.length);
  for (const s of spans) hidden.fill(1, s.start, s.end);
  let out = '';
  let at = 0;
  for (const ch of text) {
    out += hidden[at] === 1 ? '*' : ch;
    at += ch.length;
  }
  return out;
}
