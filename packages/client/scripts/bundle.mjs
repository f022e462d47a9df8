#!/usr/bin/env node
// Builds the single-file bundles of the SDK next to tsc's ESM modules in dist/, and reports their
// sizes. Each is self-contained (the protocol package is inlined) and assumes no Node built-in:
//
//   dist/roomcast-client.min.js  ESM, minified, ES2019: <script type="module">, bundlers
//   dist/roomcast.cjs            CommonJS, ES2019: Node's require(), mini programs' require()
//   dist/roomcast-client.js      ES2015, minified, UMD-style: a <script> tag defines the global
//                                `Roomcast`; where `module.exports` exists (mini programs, CommonJS)
//                                it is exported instead. The server serves it at /roomcast-client.js.
//
// `node scripts/bundle.mjs [--outdir DIR] [--json]`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--outdir');
const outdir = at >= 0 ? args[at + 1] : join(here, '..', 'dist');

const common = {
  entryPoints: [join(here, '..', 'src', 'index.ts')],
  bundle: true,
  // Neutral: nothing Node- or browser-specific is assumed; a Node built-in import fails the build.
  platform: 'neutral',
  mainFields: ['module', 'main'],
  legalComments: 'none',
  logLevel: 'warning',
};

// A classic script has no `module`; a mini program's (or any CommonJS) file scope does, and there
// a top-level `var` would stay private to the file.
const UMD_FOOTER = 'if(typeof module==="object"&&module&&typeof module.exports==="object")module.exports=Roomcast;';

const targets = [
  { file: 'roomcast-client.min.js', format: 'esm', target: 'es2019', minify: true },
  { file: 'roomcast.cjs', format: 'cjs', target: 'es2019', minify: false },
  { file: 'roomcast-client.js', format: 'iife', target: 'es2015', minify: true, globalName: 'Roomcast', footer: { js: UMD_FOOTER } },
];

const report = [];
for (const { file, ...options } of targets) {
  const outfile = join(outdir, file);
  await build({ ...common, ...options, outfile });
  const code = readFileSync(outfile);
  report.push({ outfile, format: options.format, raw: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength });
}
if (args.includes('--json')) console.log(JSON.stringify(report));
else for (const r of report) console.log(`${r.outfile}: ${(r.raw / 1024).toFixed(1)} kB, ${(r.gzipped / 1024).toFixed(1)} kB gzipped`);
