#!/usr/bin/env node
// Builds the browser-ready bundle dist/roomcast-client.min.js (ESM, minified, no Node built-ins)
// and reports its size. `node scripts/bundle.mjs [--outfile PATH] [--json]`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--outfile');
const outfile = at >= 0 ? args[at + 1] : join(here, '..', 'dist', 'roomcast-client.min.js');

await build({
  entryPoints: [join(here, '..', 'src', 'index.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  minify: true,
  // Neutral: nothing Node- or browser-specific is assumed; a Node built-in import fails the build.
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2019',
  legalComments: 'none',
  logLevel: 'warning',
});

const code = readFileSync(outfile);
const raw = code.byteLength;
const gzipped = gzipSync(code, { level: 9 }).byteLength;
if (args.includes('--json')) console.log(JSON.stringify({ outfile, raw, gzipped }));
else console.log(`${outfile}: ${(raw / 1024).toFixed(1)} kB, ${(gzipped / 1024).toFixed(1)} kB gzipped`);
