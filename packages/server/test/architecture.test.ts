import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Dependencies point inward: core/ knows the Store and Broker interfaces, never a driver,
// a socket library or the HTTP framework (DESIGN.md).
const CORE = fileURLToPath(new URL('../src/core/', import.meta.url));
const FORBIDDEN = [/^ws$/, /^fastify/, /^better-sqlite3$/, /^kysely$/, /^pg$/, /^ioredis$/, /^pino$/, /\/gateway\//, /\/http\//, /\/store\/(sqlite|sql-store|postgres)/, /\/broker\/(memory|redis)/];

function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
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
});
