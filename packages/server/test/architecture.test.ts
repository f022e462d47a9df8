import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The shape of the code, checked: dependencies point inward (core/ knows the Store and Broker
// interfaces, never a driver, a socket library or the HTTP framework), no source file imports
// itself around a loop, and source files stay a size a newcomer can read (DESIGN.md, STYLE.md).

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CORE = join(ROOT, 'packages/server/src/core/');
const FORBIDDEN = [/^ws$/, /^fastify/, /^better-sqlite3$/, /^kysely$/, /^pg$/, /^ioredis$/, /^pino$/, /\/gateway\//, /\/http\//, /\/store\/(sqlite|sql-store|postgres)/, /\/broker\/(memory|redis)/];

/** Every module specifier a file imports or re-exports, type-only ones included. */
function importsOf(source: string): string[] {
  const specs = [
    ...source.matchAll(/^\s*import\s[^'"]*?['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^\s*export\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ];
  return specs.map((m) => m[1] as string);
}

/** Source files of every package (TypeScript and Vue single-file components). */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|vue)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
    }
  };
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    const src = join(ROOT, 'packages', pkg, 'src');
    if (existsSync(src)) walk(src);
  }
  return out;
}

/** A relative specifier as the file it names (`./x.js` is `x.ts` in the sources). */
function resolveLocal(from: string, spec: string, files: Set<string>): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (files.has(candidate)) return candidate;
  }
  return null;
}

/** The import graph's strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('architecture', () => {
  it('core imports no driver, socket library or HTTP framework', () => {
    const files = readdirSync(CORE).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      for (const spec of importsOf(readFileSync(CORE + file, 'utf8'))) {
        for (const bad of FORBIDDEN) expect(bad.test(spec), `${file} imports ${spec}`).toBe(false);
      }
    }
  });

  it('no two source files import each other, directly or around a loop (type-only imports included)', () => {
    const files = sourceFiles();
    const known = new Set(files);
    const graph = new Map<string, string[]>();
    for (const f of files) {
      const deps = importsOf(readFileSync(f, 'utf8'))
        .map((s) => resolveLocal(f, s, known))
        .filter((p): p is string => p !== null);
      graph.set(f, deps);
    }
    expect(files.length).toBeGreaterThan(50);
    const loops = cycles(graph).map((c) => c.map((f) => relative(ROOT, f)).sort().join(' <-> '));
    expect(loops).toEqual([]);
  });

  it('keeps source files under ~350 lines, or says at the top why not', () => {
    const long = sourceFiles()
      .map((f) => ({ f: relative(ROOT, f), text: readFileSync(f, 'utf8') }))
      .filter(({ text }) => text.split('\n').length > 360 && !/^(\/\/|\/\*|<!--)[^\n]*\blong\b/im.test(text.split('\n').slice(0, 12).join('\n')))
      .map(({ f, text }) => `${f}: ${text.split('\n').length} lines`);
    expect(long).toEqual([]);
  });
});
