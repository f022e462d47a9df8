import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS, defaultText } from '../src/config.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every option with its environment variable and default, as the server has them', () => {
    const rows = README.split('\n').filter((l) => l.startsWith('| `--'));
    expect(rows).toHaveLength(OPTIONS.length);
    for (const o of OPTIONS) {
      expect(README).toContain(`| \`--${o.flag}\` | \`${o.env}\` | \`${defaultText(o.key)}\` | ${o.help} |`);
    }
  });

  it('gives the two set-up commands', () => {
    expect(README).toContain('npm install && npm start');
    expect(README).toContain('bash .ci/run');
  });
});
