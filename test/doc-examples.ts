// The executable-example format of docs/protocol.md: parsing the ```example blocks, substituting
// `$name` variables and matching received frames against the documented ones. Pure functions, no
// server: test/docs-protocol.test.ts runs the parsed steps against a real server.

/** The placeholder character: `"…"` matches anything, `"u_…"` any string starting with `u_`. */
export const ELLIPSIS = '…';

/** One line of an example block. */
export type Step =
  /** `NAME connects` (query undefined: `?name=NAME`, waits for welcome) or `NAME connects ?QUERY`. */
  | { kind: 'connect'; name: string; query: string | undefined }
  /** `NAME reconnects`: a new connection with `?guest=<NAME's guestToken>`, waits for welcome. */
  | { kind: 'reconnect'; name: string }
  /** `NAME closes`: the client closes its connection and waits until it is closed. */
  | { kind: 'close'; name: string }
  /** `NAME closed CODE`: the server must close NAME's connection with this close code. */
  | { kind: 'closed'; name: string; code: number }
  /** `NAME → TEXT`: NAME sends TEXT as one text frame. */
  | { kind: 'send'; name: string; text: string }
  /** `NAME ← {json}`: NAME must receive a frame like this one. */
  | { kind: 'expect'; name: string; text: string };

export type LocatedStep = Step & {
  /** 1-based line number in the markdown file. */
  line: number;
  /** The line as written, for failure messages. */
  source: string;
};

export interface ExampleBlock {
  /** 1-based line number of the opening fence. */
  line: number;
  /** The nearest heading above the block. */
  heading: string;
  /** `--flag value` pairs from a `server …` line (command-line flags of `roomcast serve`). */
  serverFlags: Record<string, string>;
  steps: LocatedStep[];
}

const NAME = '[A-Z][A-Za-z0-9]*';
const LINE_FORMS: Array<[RegExp, (m: RegExpMatchArray) => Step]> = [
  [new RegExp(`^(${NAME}) connects(?: (\\?\\S*))?$`), (m) => ({ kind: 'connect', name: m[1]!, query: m[2] })],
  [new RegExp(`^(${NAME}) reconnects$`), (m) => ({ kind: 'reconnect', name: m[1]! })],
  [new RegExp(`^(${NAME}) closes$`), (m) => ({ kind: 'close', name: m[1]! })],
  [new RegExp(`^(${NAME}) closed (\\d{4})$`), (m) => ({ kind: 'closed', name: m[1]!, code: Number(m[2]) })],
  [new RegExp(`^(${NAME}) → (.+)$`), (m) => ({ kind: 'send', name: m[1]!, text: m[2]! })],
  [new RegExp(`^(${NAME}) ← (\\{.*\\})$`), (m) => ({ kind: 'expect', name: m[1]!, text: m[2]! })],
];

/** Extracts every ```example block; throws on a line that is not one of the documented forms. */
export function parseExamples(markdown: string, file = 'docs/protocol.md'): ExampleBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: ExampleBlock[] = [];
  let heading = '';
  let current: ExampleBlock | null = null;
  let inOtherFence = false;
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (current) {
      if (line.startsWith('```')) {
        blocks.push(current);
        current = null;
        return;
      }
      if (line === '' || line.startsWith('#')) return;
      const server = /^server((?: --[a-z-]+ \S+)+)$/.exec(line);
      if (server) {
        if (current.steps.length > 0) throw new Error(`${file}:${lineNo}: a "server" line must come first in its block`);
        const parts = server[1]!.trim().split(/\s+/);
        for (let j = 0; j < parts.length; j += 2) current.serverFlags[parts[j]!.slice(2)] = parts[j + 1]!;
        return;
      }
      for (const [re, make] of LINE_FORMS) {
        const m = re.exec(line);
        if (m) {
          current.steps.push({ ...make(m), line: lineNo, source: line });
          return;
        }
      }
      throw new Error(`${file}:${lineNo}: not an example line: ${line}`);
    }
    if (inOtherFence) {
      if (line.startsWith('```')) inOtherFence = false;
      return;
    }
    if (/^```example\s*$/.test(line)) {
      current = { line: lineNo, heading, serverFlags: {}, steps: [] };
    } else if (line.startsWith('```')) {
      inOtherFence = true;
    } else if (/^#{1,6} /.test(line)) {
      heading = line.replace(/^#+ /, '');
    }
  });
  if (current) throw new Error(`${file}:${(current as ExampleBlock).line}: example block is not closed`);
  return blocks;
}

/** The `$name` variables used in a line, lower case, in order of appearance. */
export function variablesIn(text: string): string[] {
  return [...text.matchAll(/\$([a-z][a-z0-9]*)/g)].map((m) => m[1]!);
}

/** Replaces each `$name` with its value; throws when a variable is unknown. */
export function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$([a-z][a-z0-9]*)/g, (_whole, name: string) => {
    const value = vars.get(name);
    if (value === undefined) throw new Error(`unknown variable $${name}`);
    return value;
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/**
 * Whether `actual` is like `expected`: null when it is, else where and how they differ.
 *
 * - objects: every key of `expected` is in `actual` with a matching value; `actual` may have more;
 * - arrays: same length, element-wise; a last expected element `"…"` lets `actual` have more;
 * - `"…"` matches any value of any type; another string containing `…` matches any string
 *   starting with the part before the `…`;
 * - anything else must be equal.
 */
export function matchFrame(expected: unknown, actual: unknown, path = ''): string | null {
  const where = path === '' ? 'the frame' : `"${path}"`;
  if (expected === ELLIPSIS) return null;
  if (typeof expected === 'string' && expected.includes(ELLIPSIS)) {
    const prefix = expected.slice(0, expected.indexOf(ELLIPSIS));
    if (typeof actual === 'string' && actual.startsWith(prefix)) return null;
    return `at ${where}: expected a string starting with ${JSON.stringify(prefix)}, got ${show(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `at ${where}: expected an array, got ${show(actual)}`;
    const open = expected.length > 0 && expected[expected.length - 1] === ELLIPSIS;
    const items = open ? expected.slice(0, -1) : expected;
    if (open ? actual.length < items.length : actual.length !== items.length) {
      return `at ${where}: expected ${open ? 'at least ' : ''}${items.length} elements, got ${actual.length}: ${show(actual)}`;
    }
    for (let i = 0; i < items.length; i++) {
      const diff = matchFrame(items[i], actual[i], `${path}[${i}]`);
      if (diff) return diff;
    }
    return null;
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return `at ${where}: expected an object, got ${show(actual)}`;
    for (const [key, value] of Object.entries(expected)) {
      const sub = path === '' ? key : `${path}.${key}`;
      if (!Object.prototype.hasOwnProperty.call(actual, key)) return `at "${sub}": missing (expected ${show(value)})`;
      const diff = matchFrame(value, actual[key], sub);
      if (diff) return diff;
    }
    return null;
  }
  if (Object.is(expected, actual)) return null;
  return `at ${where}: expected ${show(expected)}, got ${show(actual)}`;
}
