// Screen 6 end to end: the real binary in a real terminal (tmux) on the demo site. Pick a malformed
// and a good model file with keys (several arriving in one read), run the benchmark through the
// headless loader process, save the baseline behind its confirmation, run again and see the
// comparison; quit and get the shell back.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoSite, type DemoSite, startDemoConsole } from './helpers/e2e-demo.js';
import { hasTmux } from './helpers/tmux.js';

describe.runIf(hasTmux())('the Bench screen under tmux on the demo site', () => {
  let demo: DemoSite;
  beforeAll(async () => {
    demo = await buildDemoSite('cadence-e2e-bench-');
  }, 120_000);
  afterAll(() => demo?.remove());

  it('picks files, runs them in the loader, saves the baseline and compares the next run with it', async () => {
    const { tmux, flat, waitFor } = startDemoConsole('bench', demo, { keepLines: true });
    const site = demo.site;
    try {
      await waitFor('1 Overview', 'the console', 20_000);
      tmux.send('6');
      await waitFor('Bench: how fast do models load?', 'screen 6');
      await waitFor(/(\d+) of \1 files picked/, 'every file picked at first');
      tmux.send('a');
      await waitFor(/^0 of \d+ files picked/m, 'none picked');
      // Down three rows and pick (broken/broken_header.stl), then the last file: one read.
      tmux.send('jjj G ');
      let pane = await waitFor(/^2 of \d+ files picked/m, 'two files picked');
      tmux.send('g');
      pane = await waitFor(/\[x\] data\/models\/broken\/broken_header\.stl/, 'the malformed file picked');
      expect(flat(pane)).toMatch(/\[ \] data\/models\/broken\/broken_container\.3mf/);
      tmux.send('r');
      pane = await waitFor(/done: 2 files, \d+ regressions?, 1 failed/, 'the first run', 60_000);
      // The malformed file fails with its PAR code and the reason; the good one has its figures.
      expect(flat(pane)).toMatch(/broken_header\.stl PAR001 .*✖ PAR001/);
      expect(flat(pane)).toMatch(/PAR001 unrecognised content \(40 bytes/);
      const good = /^(\S+\.(?:stl|obj|3mf|step|ply)) +[\d.]+ ms +[\d.]+ ms +\S+ +\S+ +· no baseline/im.exec(
        flat(pane).split('\n').join('\n'),
      );
      expect(good, pane).not.toBeNull();
      tmux.send('b');
      await waitFor('y Save baseline', 'the confirmation');
      tmux.send('y');
      await waitFor('baseline saved (1 files)', 'the baseline saved');
      const exported = JSON.parse(readFileSync(path.join(site, 'performance_baseline.json'), 'utf8'));
      expect(JSON.stringify(exported)).toContain(good![1]!);
      tmux.send('r');
      // Now compared with the baseline: a signed percentage and a verdict in words.
      const compared = new RegExp(`${good![1]!.replace(/\./g, '\\.')} .* [+-][\\d.]+% +\\S+ [a-zA-Z]+`);
      // (While it runs, the table still holds the last run: wait for the end, then read the rows.)
      await waitFor(/running \[/, 'the second run started');
      pane = await waitFor(/done: 2 files, \d+ regressions?, 1 failed/, 'the second run', 60_000);
      expect(flat(pane)).toMatch(compared);
      tmux.send('q');
      pane = await waitFor('EXITED 0', 'the console quit');
      expect(pane).toContain('SHELL-BEFORE');
      expect(pane).not.toContain('Bench: how fast');
      expect(existsSync(path.join(site, 'performance_baseline.json'))).toBe(true);
    } finally {
      tmux.kill();
    }
  }, 240_000);
});
