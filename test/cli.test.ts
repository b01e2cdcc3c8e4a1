import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { verbs } from '../source/commands/index.js';
import { runCli } from './helpers/cli.js';
import { tempDir, testEnv } from './helpers/temp-site.js';

describe('cadence-ops CLI', () => {
  it('--help lists every verb with one line', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const v of verbs) {
      const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`${v.name} `));
      expect(line, v.name).toContain(v.summary);
    }
  });

  it('npm start runs the bundle with the Node flags of its #! line', () => {
    const shebang = readFileSync(path.join(import.meta.dirname, '../dist/cadence-ops.js'), 'utf8').split(
      '\n',
    )[0]!;
    const flags = shebang.replace('#!/usr/bin/env -S node ', '');
    expect(flags).toContain('--v8-pool-size=1');
    expect(pkg.scripts.start).toContain(`node ${flags} dist/cadence-ops.js demo`);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('an unknown verb or flag is a usage error: exit 2 with a clear message', async () => {
    const verb = await runCli(['frobnicate']);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain('unknown command "frobnicate"');
    const flag = await runCli(['config', '--frobnicate']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--frobnicate');
  });

  it('without a terminal the console says so, names the headless verbs and exits 2', async () => {
    const home = tempDir();
    const root = path.join(home, 'site');
    mkdirSync(path.join(root, 'data'), { recursive: true });
    const r = await runCli(['--root', root], { env: testEnv(home) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('needs a terminal');
    expect(r.stderr).toContain('config');
  });

  it('with no site to open it suggests the demo', async () => {
    const home = tempDir();
    const r = await runCli([], { env: testEnv(home), cwd: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cadence-ops demo');
  });

  it('--root to a missing folder is a clear error', async () => {
    const home = tempDir();
    const r = await runCli(['config', '--root', path.join(home, 'nope')], { env: testEnv(home) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such folder');
  });
});
