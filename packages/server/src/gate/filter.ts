import { readFileSync } from 'node:fs';
import type { BeforeMessage, GateVerdict } from '../core/message-gate.js';
import { badWord, maskSpans, WordMatcher, type Span } from './filter-words.js';
import { loadPatterns, PatternError, type Pattern } from './filter-patterns.js';

// The built-in filter (--filter-words, --filter-patterns, --filter-mode): a synchronous gate,
// first in the chain. Its lists are read at start (a bad one stops the start) and again on
// `reload` (SIGHUP), where a bad one keeps the lists in use.

export interface FilterOptions {
  /** File of words and phrases, one a line, `#` comments; empty: none. */
  wordsFile: string;
  /** `--filter-patterns`: presets and `file:PATH`; empty: none. */
  patterns: string;
  mode: 'mask' | 'reject';
}

/** A listed line the filter skipped, and why (reported, not fatal). */
export interface SkippedWord {
  line: number;
  why: string;
}

interface Lists {
  words: WordMatcher;
  patterns: Pattern[];
  skipped: SkippedWord[];
}

/** Reads a words file: UTF-8 (a BOM is dropped), one word or phrase a line, `#` starts a comment line. */
export function readWords(path: string): { words: string[]; skipped: SkippedWord[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PatternError(`--filter-words: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const words: string[] = [];
  const skipped: SkippedWord[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, i) => {
    const word = line.trim();
    if (word === '' || word.startsWith('#')) return;
    const why = badWord(word);
    if (why) skipped.push({ line: i + 1, why });
    else words.push(word);
  });
  return { words, skipped };
}

export class MessageFilter {
  private lists: Lists;

  /** Throws PatternError (a message naming the flag, file and line) when a list cannot be loaded. */
  constructor(private readonly o: FilterOptions) {
    this.lists = this.load();
  }

  /** Words in use, and the lines skipped at the last load. */
  get words(): number {
    return this.lists.words.size;
  }

  get skipped(): readonly SkippedWord[] {
    return this.lists.skipped;
  }

  /**
   * Reads the lists again (SIGHUP). On failure the lists in use stay and the error is thrown, for
   * the caller to log.
   */
  reload(): void {
    this.lists = this.load();
  }

  private load(): Lists {
    const read = this.o.wordsFile ? readWords(this.o.wordsFile) : { words: [], skipped: [] };
    return { words: new WordMatcher(read.words), patterns: this.o.patterns ? loadPatterns(this.o.patterns) : [], skipped: read.skipped };
  }

  /** The filter's verdict on one text: allow, the text masked, or a reject that names no listed word. */
  check(text: string): GateVerdict {
    const { words, patterns } = this.lists;
    const spans: Span[] = words.find(text);
    if (spans.length > 0 && this.o.mode === 'reject') return { action: 'reject', reason: 'the message contains a word this server does not allow; reword it' };
    for (const p of patterns) {
      const found = p.find(text);
      if (found.length === 0) continue;
      if (this.o.mode === 'reject') return { action: 'reject', reason: `the message contains ${describe(p.name)}, which this server does not allow to be posted` };
      spans.push(...found);
    }
    return spans.length === 0 ? { action: 'allow' } : { action: 'replace', text: maskSpans(text, spans) };
  }

  /** As a gate of the chain. */
  get gate(): BeforeMessage {
    return (input) => this.check(input.text);
  }
}

function describe(pattern: string): string {
  switch (pattern) {
    case 'phone-cn':
      return 'a phone number';
    case 'id-cn':
      return 'an identity card number';
    case 'email':
      return 'an email address';
    case 'card':
      return 'a payment card number';
    default:
      return 'text matching a blocked pattern';
  }
}
