// Keeps the README true: every verb and every configuration key is documented there.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../services/config.js';
import { verbs } from '../source/commands/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function leafKeys(value: unknown, prefix: string[] = []): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || prefix.at(-1) === 'headers') {
    return [prefix.join('.')];
  }
  return Object.entries(value).flatMap(([k, v]) => leafKeys(v, [...prefix, k]));
}

describe('README', () => {
  it('documents every verb in the verbs table', () => {
    const table = readme.slice(readme.indexOf('### Verbs'), readme.indexOf('## The console'));
    for (const v of verbs) expect(table, v.name).toMatch(new RegExp(`^\\| \`${v.name}[ \`]`, 'm'));
  });

  it('documents every configuration key with its default', () => {
    const section = readme.slice(
      readme.indexOf('## Configuration'),
      readme.indexOf('## Where state and logs go'),
    );
    for (const key of leafKeys(defaultConfig())) expect(section, key).toContain(`| \`${key}\` |`);
  });

  it('gives the two quick-start commands', () => {
    expect(readme).toContain('    npm install && npm start');
    expect(readme).toContain('    npm test');
  });
});
