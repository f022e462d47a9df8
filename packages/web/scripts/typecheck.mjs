#!/usr/bin/env node
// Type-checks the .vue files with vue-tsc. vue-tsc needs the TypeScript 5 compiler API, which the
// repository's TypeScript 7 (native) does not have, so it runs on `typescript5` (an npm alias).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..'));
process.argv = [process.argv[0], 'vue-tsc', '--noEmit', '-p', 'tsconfig.json'];
require('vue-tsc').run(require.resolve('typescript5/lib/tsc'));
