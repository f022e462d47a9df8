import { readFileSync } from 'node:fs';
import { ChatError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { BeforeMessage, GateVerdict } from '../core/message-gate.js';
import { badWord, foldText, maskSpans, unfold, WordMatcher, type Span } from './filter-words.js';
import { loadPatterns, PatternError, type Pattern } from './filter-patterns.js';
import { RegexWorker } from './regex-worker.js';

// The built-in filter (--filter-words, --filter-patterns, --filter-mode): first in the chain,
// synchronous unless `file:` expressions are listed (they run in a worker thread, and a message
// they cannot finish in time is a failure that --hook-fail settles). Its lists are read at start (a bad one stops the start) and again on
// `reload` (SIGHUP), where a bad one keeps the lists in use.

export interface FilterOptions {
  /** File of words and phrases, one a line, `#` comments; empty: none. */
  wordsFile: string;
  /** `--filter-patterns`: presets and `file:PATH`; empty: none. */
  patterns: string;
  mode: 'mask' | 'reject';
  /** What a `file:` expression that fails on a message means: open lets it pass them, closed refuses it. */
  fail?: 'open' | 'closed';
  log?: Logger;
  /** Milliseconds the `file:` expressions have for one message. */
  regexBudgetMs?: number;
}

/** A listed line the filter skipped, and why (reported, not fatal). */
export interface SkippedWord {
  line: number;
  why: string;
}

interface Lists {
  words: WordMatcher;
  patterns: Pattern[];
  regex: RegexWorker | null;
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
    const old = this.lists;
    this.lists = this.load();
    old.regex?.close();
  }

  /** Stops the worker of the `file:` expressions. */
  close(): void {
    this.lists.regex?.close();
  }

  /** The worker's overruns and crashes (for tests). */
  get regexFailures(): number {
    return this.lists.regex?.failures ?? 0;
  }

  private load(): Lists {
    const read = this.o.wordsFile ? readWords(this.o.wordsFile) : { words: [], skipped: [] };
    const patterns = this.o.patterns ? loadPatterns(this.o.patterns) : { presets: [], files: [] };
    const log = this.o.log ?? silent;
    const regex = patterns.files.length > 0 ? new RegexWorker(patterns.files, log, this.o.regexBudgetMs) : null;
    return { words: new WordMatcher(read.words), patterns: patterns.presets, regex, skipped: read.skipped };
  }

  /**
   * The filter's verdict on one text: allow, the text masked, or a reject that names no listed
   * word. The words and presets see the text folded (NFKD, marks and format characters dropped).
   */
  check(text: string): GateVerdict | Promise<GateVerdict> {
    const { words, patterns, regex } = this.lists;
    const spans: Span[] = words.find(text);
    if (spans.length > 0 && this.o.mode === 'reject') return { action: 'reject', reason: 'the message contains a word this server does not allow; reword it' };
    const f = patterns.length > 0 ? foldText(text) : null;
    for (const p of patterns) {
      const found = p.find((f as { text: string }).text);
      if (found.length === 0) continue;
      if (this.o.mode === 'reject') return this.refused(p.name);
      for (const s of found) spans.push(unfold(f as Parameters<typeof unfold>[0], s));
    }
    if (!regex) return this.verdict(text, spans);
    return regex.find(text).then(
      (found) => {
        if (found.length > 0 && this.o.mode === 'reject') return this.refused('file');
        return this.verdict(text, spans.concat(found));
      },
      () => {
        if (this.o.fail === 'closed') throw new ChatError('unavailable', 'the message filter could not check this message in time, so it was not sent; retry in a moment');
        return this.verdict(text, spans);
      },
    );
  }

  private verdict(text: string, spans: Span[]): GateVerdict {
    return spans.length === 0 ? { action: 'allow' } : { action: 'replace', text: maskSpans(text, spans) };
  }

  private refused(pattern: string): GateVerdict {
    return { action: 'reject', reason: `the message contains ${describe(pattern)}, which this server does not allow to be posted` };
  }

  /** As a gate of the chain. */
  get gate(): BeforeMessage {
    return (input) => this.check(input.text);
  }
}

const silent = { warn() {} } as unknown as Logger;

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
