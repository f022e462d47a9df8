import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// What `npm publish` would ship for the packages others install: `npm pack --dry-run` lists the
// files. Each has its build, its declarations, LICENSE, README and package.json, every path its
// package.json points at (main, types, exports, bin), and nothing else: no sources, tests,
// scripts, source maps or build caches. Run after `npm run build` (as `npm test` does).

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Manifest {
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: unknown;
  license?: string;
  files?: string[];
}

async function packed(pkg: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: join(ROOT, 'packages', pkg), encoding: 'utf8' });
  const [report] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  return (report?.files ?? []).map((f) => f.path).sort();
}

/** Every file path the manifest names (exports' targets at any depth, main, types, bin). */
function pointedAt(m: Manifest): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk([m.main, m.types, m.bin, m.exports]);
  return [...new Set(out.map((p) => p.replace(/^\.\//, '')))];
}

const PACKAGES = {
  client: ['dist/index.js', 'dist/index.d.ts', 'dist/roomcast.cjs', 'dist/roomcast-client.js', 'dist/roomcast-client.min.js', 'dist/utf8.js'],
  server: ['bin/roomcast.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'dist/http/client-bundle.js'],
  protocol: ['dist/index.js', 'dist/index.d.ts', 'dist/validate.js'],
};

describe('npm pack contents', () => {
  for (const [pkg, required] of Object.entries(PACKAGES)) {
    it(`@roomcast/${pkg}: its build, types, LICENSE, README and package.json, nothing else`, async () => {
      const files = await packed(pkg);
      const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8')) as Manifest;
      expect(manifest.license).toBe('MIT');
      expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', ...required]));
      for (const path of pointedAt(manifest)) expect(files, `package.json points at ${path}`).toContain(path);
      const unexpected = files.filter((f) => !/^(LICENSE|README\.md|package\.json|dist\/.+\.(js|d\.ts|cjs)|bin\/[\w-]+\.js)$/.test(f));
      expect(unexpected).toEqual([]);
      expect(files.filter((f) => /(^|\/)(src|test|scripts)\/|\.map$|tsbuildinfo|\.test\./.test(f))).toEqual([]);
    });
  }

  it('the LICENSE shipped is the repository one', () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    for (const pkg of Object.keys(PACKAGES)) expect(readFileSync(join(ROOT, 'packages', pkg, 'LICENSE'), 'utf8')).toBe(license);
  });
});
