import { mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../packages/server/test/helpers.js';
import { unlessUpToDate } from '../scripts/up-to-date.mjs';

// `npm run build` (run by every `npm start`) skips a step whose inputs did not change since it
// last succeeded and whose outputs exist (scripts/up-to-date.mjs), and runs it otherwise.

describe('build steps that are up to date are skipped', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach(removeDir));

  function project() {
    const root = tempDir('roomcast-build-');
    dirs.push(root);
    mkdirSync(join(root, 'src', 'deep'), { recursive: true });
    writeFileSync(join(root, 'src', 'a.ts'), 'a');
    writeFileSync(join(root, 'src', 'deep', 'b.ts'), 'b');
    writeFileSync(join(root, 'package.json'), '{}');
    let runs = 0;
    const build = (force = false) =>
      unlessUpToDate('demo step', { root, cacheDir: join(root, '.cache'), inputs: ['src', 'package.json', 'missing-is-fine'], outputs: ['out/x.js'], force }, () => {
        runs++;
        mkdirSync(join(root, 'out'), { recursive: true });
        writeFileSync(join(root, 'out', 'x.js'), String(runs));
      });
    return { root, build, runs: () => runs };
  }

  it('runs on a fresh tree, then not again until something changes', () => {
    const p = project();
    expect(p.build()).toBe(true);
    expect(p.build()).toBe(false);
    expect(p.runs()).toBe(1);
  });

  it('runs again after an input is edited, added or removed, or an output is gone, or with force', () => {
    const p = project();
    p.build();
    const a = join(p.root, 'src', 'a.ts');
    const later = new Date(statSync(a).mtimeMs + 5000);
    utimesSync(a, later, later); // saved again, same size
    expect(p.build()).toBe(true);
    writeFileSync(join(p.root, 'src', 'deep', 'c.ts'), 'c');
    expect(p.build()).toBe(true);
    rmSync(join(p.root, 'src', 'deep', 'b.ts'));
    expect(p.build()).toBe(true);
    expect(p.build()).toBe(false);
    rmSync(join(p.root, 'out', 'x.js'));
    expect(p.build()).toBe(true);
    expect(p.build(true)).toBe(true);
    expect(p.runs()).toBe(6);
  });

  it('does not record a step that failed', () => {
    const p = project();
    const failing = () =>
      unlessUpToDate('demo step', { root: p.root, cacheDir: join(p.root, '.cache'), inputs: ['src'], outputs: [] }, () => {
        throw new Error('vite failed');
      });
    expect(failing).toThrow('vite failed');
    expect(failing).toThrow('vite failed');
  });
});
