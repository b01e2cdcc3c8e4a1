// Finding the application by its command-line pattern when the pid file does not help: only a
// process that works on this site counts, not another site's application or a tool.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { belongsToSite, findAppProcess, looksLikeApp } from '../services/app-process.js';
import { tempDir } from './helpers/temp-site.js';

/** A stand-in application: titled like the real one, working in `cwd`. */
function fakeApp(cwd: string, title: string): ChildProcess {
  const script = `process.title = ${JSON.stringify(title)}; setInterval(() => {}, 1000);`;
  return spawn(process.execPath, ['-e', `${script}${' '.repeat(60)}`], { cwd, stdio: 'ignore' });
}

async function titled(child: ChildProcess, title: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if (readFileSync(`/proc/${child.pid}/cmdline`, 'latin1').startsWith(title)) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the stand-in never took its title');
}

describe('application lookup by pattern', () => {
  const home = tempDir();
  const siteA = path.join(home, 'site-a');
  const siteB = path.join(home, 'site-b');
  // A pattern unique to this test run, so no other process on the host can match it.
  const pattern = `candy_cadence_test_${process.pid}`;
  let appA: ChildProcess;
  let appB: ChildProcess;

  beforeAll(async () => {
    mkdirSync(siteA, { recursive: true });
    mkdirSync(siteB, { recursive: true });
    appA = fakeApp(siteA, `${pattern} --site a`);
    appB = fakeApp(siteB, `${pattern} --site b`);
    await titled(appA, pattern);
    await titled(appB, pattern);
  });
  afterAll(() => {
    appA.kill();
    appB.kill();
  });

  it('takes only the process that works on the site', () => {
    expect(belongsToSite(appA.pid!, siteA)).toBe(true);
    expect(belongsToSite(appA.pid!, siteB)).toBe(false);
    expect(findAppProcess({ pidFile: null, pattern, siteRoot: siteA }).process?.pid).toBe(appA.pid);
    expect(findAppProcess({ pidFile: null, pattern, siteRoot: siteB }).process?.pid).toBe(appB.pid);
    expect(
      findAppProcess({ pidFile: null, pattern: `${pattern}_nothing`, siteRoot: siteA }).process,
    ).toBeNull();
  });

  it('a tool that only mentions the pattern through a path inside the site is not the application', () => {
    const root = '/srv/candy_cadence';
    expect(looksLikeApp('sqlite3 /srv/candy_cadence/data/candy_cadence.db', 'candy_cadence', root)).toBe(
      false,
    );
    expect(looksLikeApp('grep candy_cadence logs/error.log', 'candy_cadence')).toBe(false);
    expect(looksLikeApp('cadence-ops --root /srv/candy_cadence', 'candy_cadence')).toBe(false);
    expect(looksLikeApp('python3 -m candy_cadence', 'candy_cadence', root)).toBe(true);
    expect(looksLikeApp('candy_cadence (simulated by cadence-ops)', 'candy_cadence', root)).toBe(true);
  });
});
