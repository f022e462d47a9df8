#!/usr/bin/env node
// The `roomcast` command. The TypeScript is compiled to dist/ by `npm install` (root `prepare`).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`roomcast: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
