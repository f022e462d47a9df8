#!/usr/bin/env node
// `npm run build` (and so `npm start`): compiles the packages, bundles the SDK and builds the web
// UI, skipping the bundles and the UI when their inputs did not change since they last built.
// `npm start` runs this every time, and rebuilding the UI took most of its start-up and filled
// the terminal with Vite's output. tsc -b is incremental by itself.
//
// Fingerprints live in node_modules/.cache/roomcast-build/ (scripts/up-to-date.mjs), so a fresh
// clone or `npm ci` (a new node_modules) builds everything.
//
// `node scripts/build.mjs [--force]`: --force (or ROOMCAST_FORCE_BUILD=1) rebuilds everything.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unlessUpToDate } from './up-to-date.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, 'node_modules', '.cache', 'roomcast-build');
const force = process.argv.includes('--force') || process.env.ROOMCAST_FORCE_BUILD === '1';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function step(name, { inputs, outputs }, build) {
  if (!unlessUpToDate(name, { root, cacheDir, inputs, outputs, force }, build)) {
    console.log(`build: ${name}: up to date, skipped (node scripts/build.mjs --force rebuilds)`);
  }
}

// Everything downstream of the SDK depends on its sources and the protocol's, which it inlines.
const sdkInputs = ['packages/protocol/src', 'packages/protocol/package.json', 'packages/client/src', 'packages/client/package.json', 'package-lock.json'];

run(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'packages/protocol', 'packages/server', 'packages/client']);

step(
  'SDK bundles',
  {
    inputs: [...sdkInputs, 'packages/client/scripts'],
    outputs: ['packages/client/dist/roomcast-client.min.js', 'packages/client/dist/roomcast.cjs', 'packages/client/dist/roomcast-client.js'],
  },
  () => run(npm, ['run', 'bundle', '--silent', '-w', '@roomcast/client']),
);

step(
  'web UI',
  {
    inputs: [...sdkInputs, ...['src', 'public', 'scripts', 'index.html', 'package.json', 'tsconfig.json', 'vite.config.ts'].map((f) => `packages/web/${f}`)],
    outputs: ['packages/web/dist/index.html'],
  },
  () => run(npm, ['run', 'build', '--silent', '-w', '@roomcast/web']),
);
