import { readFileSync } from 'node:fs';
import safeRegex from 'safe-regex2';
import type { Span } from './filter-words.js';

// The pattern filter: presets for personal information (with their checksums, so a random run of
// digits is not taken for an id card) and regular expressions from a file, each checked for
// catastrophic backtracking when it is loaded (safe-regex2: star height above one, or more
// repetitions than its limit).

/** One preset: its name (for the reject reason and the logs) and how it finds its matches (linear time). */
export interface Pattern {
  name: string;
  find(text: string): Span[];
}

/** One expression of a `file:` list: run in the regex worker, never on the main thread. */
export interface FileRegex {
  /** `PATH:LINE`, for the logs. */
  name: string;
  file: string;
  source: string;
}

/** The patterns of a `--filter-patterns` value. */
export interface PatternLists {
  presets: Pattern[];
  files: FileRegex[];
}

/** A pattern list that cannot be loaded; the message names the preset or the file and line. */
export class PatternError extends Error {}

const PRESETS: Record<string, () => Pattern> = {
  // Mainland mobile numbers: 1[3-9] and nine more digits, maybe +86 first and spaces or dashes 3-4-4.
  'phone-cn': () => regexPattern('phone-cn', /(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)/gu),
  // Resident identity number: 17 digits and a check character (ISO 7064 MOD 11-2).
  'id-cn': () => regexPattern('id-cn', /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/gu, validIdCn),
  // What /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g finds, in linear time.
  email: () => ({ name: 'email', find: emailSpans }),
  // Payment cards: 13 to 19 digits, spaces or dashes between them allowed, passing the Luhn check.
  card: () => regexPattern('card', /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/gu, (m) => luhn(m.replace(/\D/g, ''))),
};

/** The preset names `--filter-patterns` accepts, besides `file:PATH`. */
export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/** A regular expression as a pattern; `valid` drops matches that fail a checksum. */
function regexPattern(name: string, re: RegExp, valid?: (match: string) => boolean): Pattern {
  return {
    name,
    find(text) {
      const out: Span[] = [];
      for (const m of text.matchAll(re)) {
        if (m[0].length === 0 || (valid && !valid(m[0]))) continue;
        out.push({ start: m.index, end: m.index + m[0].length });
      }
      return out;
    },
  };
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** ISO 7064 MOD 11-2 over the first 17 digits; 10 is written X. */
export function validIdCn(id: string): boolean {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * (ID_WEIGHTS[i] as number);
  const check = (12 - (sum % 11)) % 11;
  return (id[17] as string).toUpperCase() === (check === 10 ? 'X' : String(check));
}

/** The Luhn check over a string of digits. */
export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * The patterns of a `--filter-patterns` value: comma-separated preset names and `file:PATH`.
 * Throws PatternError for an unknown name, an unreadable file, or a refused expression.
 */
export function loadPatterns(list: string): PatternLists {
  const out: PatternLists = { presets: [], files: [] };
  for (const raw of list.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (raw.startsWith('file:')) {
      out.files.push(...patternFile(raw.slice(5)));
      continue;
    }
    const make = PRESETS[raw];
    if (!make) throw new PatternError(`--filter-patterns: unknown preset "${raw}"; use ${PRESET_NAMES.join(', ')} or file:PATH`);
    out.presets.push(make());
  }
  return out;
}

/**
 * A file of JavaScript regular expressions, one a line (compiled with the u flag; blank lines
 * and lines starting with `#` are skipped: write `[#]` for a literal one at the start). Each is
 * checked at load (safe-regex2, and no repeated group holding an alternation or a repetition);
 * what passes still runs in the worker, with a time budget per message.
 */
export function patternFile(path: string): FileRegex[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PatternError(`--filter-patterns file:${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const out: FileRegex[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const source = line.trim();
    if (source === '' || source.startsWith('#')) return;
    const where = `--filter-patterns file:${path} line ${i + 1}`;
    let re: RegExp;
    try {
      re = new RegExp(source, 'gu');
    } catch (err) {
      throw new PatternError(`${where}: not a valid regular expression (${(err as Error).message})`);
    }
    if (!safeRegex(re)) {
      throw new PatternError(`${where}: "${source}" can backtrack catastrophically (a repetition inside a repetition, such as (a+)+); rewrite it without the nesting`);
    }
    if (repeatsAmbiguousGroup(source)) {
      throw new PatternError(`${where}: "${source}" can backtrack catastrophically (a repeated group holding an alternation or a repetition, such as (a|aa)* or (\\d?\\d)+); rewrite it with a character class or without repeating the group`);
    }
    out.push({ name: `${path}:${i + 1}`, file: path, source });
  });
  return out;
}

/**
 * Whether a group repeated by `*`, `+` or `{n,}`/`{n,m}` (m > 1) holds an alternation or a
 * quantifier, at any depth: the shapes whose matching can take exponential time.
 */
export function repeatsAmbiguousGroup(source: string): boolean {
  const stack: { risky: boolean }[] = [{ risky: false }];
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const top = stack[stack.length - 1] as { risky: boolean };
    if (c === '\\') {
      const n = source[i + 1];
      i++;
      if ((n === 'p' || n === 'P' || n === 'u' || n === 'k') && (source[i + 1] === '{' || source[i + 1] === '<')) i = Math.max(i, source.indexOf(n === 'k' ? '>' : '}', i));
      i = afterQuantifier(source, i + 1, top) - 1;
    } else if (c === '[') {
      let j = i + 1;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = afterQuantifier(source, j + 1, top) - 1;
    } else if (c === '(') {
      stack.push({ risky: false });
    } else if (c === ')') {
      const inner = stack.pop() as { risky: boolean };
      const parent = stack[stack.length - 1] ?? { risky: false };
      if (stack.length === 0) stack.push(parent);
      const q = quantifierAt(source, i + 1);
      if (q.repeats && inner.risky) return true;
      parent.risky ||= inner.risky || q.length > 0;
      i += q.length;
    } else if (c === '|') {
      top.risky = true;
    } else {
      i = afterQuantifier(source, i + 1, top) - 1;
    }
  }
  return false;
}

/** Skips a quantifier at `at` (marking the group risky when there is one); the index after it. */
function afterQuantifier(source: string, at: number, group: { risky: boolean }): number {
  const q = quantifierAt(source, at);
  if (q.length > 0) group.risky = true;
  return at + q.length;
}

/** The quantifier at `at` (with its lazy `?`): its length, and whether it repeats more than once. */
function quantifierAt(source: string, at: number): { length: number; repeats: boolean } {
  const c = source[at];
  let length = 0;
  let repeats = false;
  if (c === '*' || c === '+') [length, repeats] = [1, true];
  else if (c === '?') length = 1;
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at, at + 24));
    if (m) [length, repeats] = [m[0].length, m[2] !== undefined ? m[3] === '' || Number(m[3]) > 1 : Number(m[1]) > 1];
  }
  if (length > 0 && source[at + length] === '?') length++;
  return { length, repeats };
}

const isLocal = (c: number): boolean => isLabel(c) || c === 46 || c === 95 || c === 37 || c === 43; // . _ % +
const isLabel = (c: number): boolean => isAlpha(c) || (c >= 48 && c <= 57) || c === 45; // digits, -
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** Email addresses: from each '@', the local part to its left and the domain to its right, by hand. */
export function emailSpans(text: string): Span[] {
  const out: Span[] = [];
  let from = 0;
  for (let at = text.indexOf('@'); at !== -1; ) {
    let start = at;
    while (start > from && isLocal(text.charCodeAt(start - 1))) start--;
    const end = start < at ? domainEnd(text, at + 1) : -1;
    if (end > 0) {
      out.push({ start, end });
      from = end;
    }
    at = text.indexOf('@', end > 0 ? end : at + 1);
  }
  return out;
}

/** Where the longest `label(.label)*.letters{2,}` starting at `p` ends, or -1. */
function domainEnd(text: string, p: number): number {
  let best = -1;
  for (let i = p; ; i++) {
    const label = i;
    while (i < text.length && isLabel(text.charCodeAt(i))) i++;
    if (i === label) break;
    if (label > p) {
      let k = label;
      while (k < i && isAlpha(text.charCodeAt(k))) k++;
      if (k - label >= 2) best = k;
    }
    if (text.charCodeAt(i) !== 46) break;
  }
  return best;
}
