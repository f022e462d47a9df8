import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The SDK's bundles, built by the same script `npm run build` uses, into a directory of the
// test's own (so a test never reads a stale dist/).

const SCRIPT = fileURLToPath(new URL('../scripts/bundle.mjs', import.meta.url));

export interface BuiltBundle {
  outfile: string;
  format: 'esm' | 'cjs' | 'iife';
  raw: number;
  gzipped: number;
}

/** Builds the three bundles into `dir`; returns them by format. */
export function buildBundles(dir: string): Record<BuiltBundle['format'], BuiltBundle> {
  const report = JSON.parse(execFileSync(process.execPath, [SCRIPT, '--outdir', dir, '--json'], { encoding: 'utf8' })) as BuiltBundle[];
  const by = Object.fromEntries(report.map((b) => [b.format, b])) as Record<BuiltBundle['format'], BuiltBundle>;
  for (const [format, file] of [['esm', 'roomcast-client.min.js'], ['cjs', 'roomcast.cjs'], ['iife', 'roomcast-client.js']] as const) {
    if (by[format]?.outfile !== join(dir, file)) throw new Error(`bundle.mjs did not report ${file} as its ${format} build`);
  }
  return by;
}
