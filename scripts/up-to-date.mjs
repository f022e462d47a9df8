// Skipping build steps whose inputs did not change (used by scripts/build.mjs). A step's
// fingerprint is the path, size and mtime of each of its input files, taken before the step
// runs (so a file saved during a build makes the next one run again) and stored in `cacheDir`
// once the step succeeded. The step runs again when the fingerprint differs, an output is
// missing, or `force` is set.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under the given paths (files or directories, relative to root), skipping node_modules and dist. */
function filesUnder(root, paths) {
  const out = [];
  const walk = (p) => {
    if (!existsSync(p)) return;
    if (!statSync(p).isDirectory()) return void out.push(p);
    for (const name of readdirSync(p)) if (name !== 'node_modules' && name !== 'dist') walk(join(p, name));
  };
  for (const p of paths) walk(join(root, p));
  return out.sort();
}

export function fingerprint(root, inputs) {
  const h = createHash('sha256');
  for (const f of filesUnder(root, inputs)) {
    const s = statSync(f);
    h.update(`${relative(root, f)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return h.digest('hex');
}

/** Runs `step` unless it is up to date; returns whether it ran. */
export function unlessUpToDate(name, { root, cacheDir, inputs, outputs, force = false }, step) {
  const stampFile = join(cacheDir, `${name.toLowerCase().replace(/\W+/g, '-')}.json`);
  const print = fingerprint(root, inputs);
  let last = null;
  try {
    last = JSON.parse(readFileSync(stampFile, 'utf8')).fingerprint;
  } catch {
    // Never built here (or the cache was cleared): build.
  }
  if (!force && last === print && outputs.every((o) => existsSync(join(root, o)))) return false;
  step();
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(stampFile, JSON.stringify({ fingerprint: print }));
  return true;
}
