// The runnable-snippet format of docs/migrating.md: a ```js run block (optionally followed by
// `roomcast serve` flags, as in ```js run --api-key KEY) is a Node ES module, and the ```text
// block right after it is exactly what it prints. Pure functions, no server:
// test/docs-migrating.test.ts runs the snippets against a real server.

export interface Snippet {
  /** 1-based line number of the opening fence. */
  line: number;
  /** The nearest heading above the block. */
  heading: string;
  /** `--flag value` pairs from the fence (command-line flags of `roomcast serve`). */
  serverFlags: Record<string, string>;
  code: string;
  /** What the snippet prints, from the ```text block that follows it. */
  output: string;
}

const RUN_FENCE = /^```js run((?: --[a-z-]+ \S+)*)\s*$/;

/** Extracts every ```js run block with its output block; throws when the format is broken. */
export function parseSnippets(markdown: string, file = 'docs/migrating.md'): Snippet[] {
  const lines = markdown.split(/\r?\n/);
  const snippets: Snippet[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    if (!line.startsWith('```')) continue;
    const start = i;
    const end = closingFence(lines, i, file);
    i = end;
    const run = RUN_FENCE.exec(line);
    if (!run) {
      if (/^```js run/.test(line)) throw new Error(`${file}:${start + 1}: a run fence takes only "--flag value" pairs: ${line}`);
      continue;
    }
    const serverFlags: Record<string, string> = {};
    const parts = run[1]!.trim().split(/\s+/).filter(Boolean);
    for (let j = 0; j < parts.length; j += 2) serverFlags[parts[j]!.slice(2)] = parts[j + 1]!;
    // The output block: the next fence, after blank lines and at most one line of prose.
    let k = end + 1;
    while (k < lines.length && !lines[k]!.startsWith('```') && k - end <= 3) k++;
    if (k >= lines.length || lines[k] !== '```text') throw new Error(`${file}:${start + 1}: a runnable snippet must be followed by a \`\`\`text block of what it prints`);
    const outEnd = closingFence(lines, k, file);
    snippets.push({
      line: start + 1,
      heading,
      serverFlags,
      code: lines.slice(start + 1, end).join('\n'),
      output: lines.slice(k + 1, outEnd).join('\n'),
    });
    i = outEnd;
  }
  return snippets;
}

function closingFence(lines: string[], open: number, file: string): number {
  for (let j = open + 1; j < lines.length; j++) if (lines[j]!.startsWith('```')) return j;
  throw new Error(`${file}:${open + 1}: code block is not closed`);
}

/** The snippet as run: the documented server address replaced by the test server's. */
export function pointAt(code: string, hostPort: string): string {
  return code.replaceAll('localhost:8080', hostPort);
}
