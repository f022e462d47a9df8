import { readFileSync } from 'node:fs';
import safeRegex from 'safe-regex2';
import type { Span } from './filter-words.js';

// The pattern filter: presets for personal information (with their checksums, so a random run of
// digits is not taken for an id card) and regular expressions from a file, each checked for
// catastrophic backtracking when it is loaded (safe-regex2: star height above one, or more
// repetitions than its limit).

/** One pattern: its name (for the reject reason and the logs) and how it finds its matches. */
export interface Pattern {
  name: string;
  find(text: string): Span[];
}

/** A pattern list that cannot be loaded; the message names the preset or the file and line. */
export class PatternError extends Error {}

const PRESETS: Record<string, () => Pattern> = {
  // Mainland mobile numbers: 1[3-9] and nine more digits, maybe +86 first and spaces or dashes 3-4-4.
  'phone-cn': () => regexPattern('phone-cn', /(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)/gu),
  // Resident identity number: 17 digits and a check character (ISO 7064 MOD 11-2).
  'id-cn': () => regexPattern('id-cn', /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/gu, validIdCn),
  email: () => regexPattern('email', /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/gu),
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
export function loadPatterns(list: string): Pattern[] {
  const out: Pattern[] = [];
  for (const raw of list.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (raw.startsWith('file:')) {
      out.push(...patternFile(raw.slice(5)));
      continue;
    }
    const make = PRESETS[raw];
    if (!make) throw new PatternError(`--filter-patterns: unknown preset "${raw}"; use ${PRESET_NAMES.join(', ')} or file:PATH`);
    out.push(make());
  }
  return out;
}

/**
 * A file of JavaScript regular expressions, one a line (compiled with the u flag; blank lines
 * and lines starting with `#` are skipped: write `[#]` for a literal one at the start).
 */
export function patternFile(path: string): Pattern[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PatternError(`--filter-patterns file:${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const out: Pattern[] = [];
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
    out.push(regexPattern(`${path}:${i + 1}`, re));
  });
  return out;
}
