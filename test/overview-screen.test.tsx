// Screen 1 rendered in the real shell on a temporary site: the verdict and failing checks arrive from
// the health worker, alerts are listed and acknowledged with a (refused in read-only mode), Enter
// goes to the screen an alert is about, r reruns the checks; the frame fits 80x24.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { screenFor } from '../screens/overview.js';
import { activeTab, type RenderedShell, renderShell } from './helpers/shell.js';
import { makeTempSite, type TempSite } from './helpers/temp-site.js';

let site: TempSite;
let shell: RenderedShell | null = null;
beforeAll(async () => {
  site = await makeTempSite({ models: 30, thumbnails: 1, logHistoryHours: 2 });
  // No application runs on this site (another site's simulator must not be taken for it).
  writeFileSync(
    path.join(site.root, 'cadence-ops.json'),
    JSON.stringify({ app: { processPattern: `candy_overview_${process.pid}_nothing` } }),
  );
});
afterAll(() => site.cleanup());
afterEach(async () => {
  await shell?.dispose();
  shell = null;
});

const lines = (frame: string) => frame.split('\n');

describe('Overview', () => {
  it('shows the verdict, failing checks with what to do, backups, the app and the alerts at 80x24', async () => {
    shell = renderShell({ root: site.root, columns: 80, rows: 24 });
    // The checks run in a worker ~1.5 s after start; the temp site has no backups, so it is critical.
    const frame = await shell.frame((f) => f.includes('CRITICAL') && f.includes('health/'), 20_000);
    expect(activeTab(frame)).toBe('1 Overview');
    expect(frame).toMatch(/✖ CRITICAL \d+ critical/);
    // Most severe first, in check order: the application (not running here) leads.
    expect(frame).toMatch(/✖ CRIT Application status application not running/);
    expect(frame).toMatch(/→ start Candy-Cadence/);
    expect(frame).toMatch(/Backups database NONE verified · full NONE verified/);
    expect(frame).toMatch(/App ✖ down for/);
    expect(frame).toMatch(/Alerts \(\d+ active, \d+ not acknowledged/);
    // 80x24 leaves 19 rows of body: header, tabs, body, status, footer fit in 23 lines.
    expect(lines(frame).length).toBeLessThanOrEqual(23);
    for (const l of lines(frame)) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('acknowledges the selected alert with a, and Enter opens the screen it is about', async () => {
    shell = renderShell({ root: site.root, columns: 120, rows: 40 });
    let frame = await shell.frame(
      (f) => f.includes('health/application') && f.includes('health/backups'),
      20_000,
    );
    expect(frame).toContain('Error clusters');
    // Acknowledge the second alert: j moves the selection, a acknowledges what is selected.
    await shell.press('j', 'a');
    frame = await shell.frame((f) => /acknowledged [a-z]+\/[\w:.-]+/.test(f));
    const [, source = '', key = ''] = /acknowledged ([a-z]+)\/([\w:.-]+)/.exec(frame)!;
    frame = await shell.frame((f) => lines(f).some((l) => l.includes(`✓ack ${source}/${key.slice(0, 10)}`)));
    expect(frame).toMatch(/\d+ active, \d+ not acknowledged/);
    const [, active, unacked] = /(\d+) active, (\d+) not acknowledged/.exec(frame)!;
    expect(Number(unacked)).toBeLessThan(Number(active));
    await shell.press('\r');
    const target = screenFor(source, key);
    if (target)
      await shell.frame(
        (f) =>
          activeTab(f)?.endsWith(
            target === 'bench' ? 'Bench' : target[0]!.toUpperCase() + target.slice(1),
          ) === true,
      );
    else await shell.frame((f) => f.includes(`no screen for ${source} alerts`));
  });

  it('read-only: acknowledging is refused; r reruns the checks', async () => {
    shell = renderShell({ root: site.root, columns: 100, rows: 30, readOnly: true });
    await shell.frame((f) => f.includes('CRITICAL'), 20_000);
    await shell.press('a');
    await shell.frame((f) => f.includes('read-only mode: "acknowledge" is disabled'));
    await shell.press('r');
    await shell.frame((f) => f.includes('running the health checks'));
    await shell.frame((f) => f.includes('health: critical'), 20_000);
  });

  it('maps alerts to the screen that shows more', () => {
    expect(screenFor('health', 'backups')).toBe('backups');
    expect(screenFor('health', 'performance')).toBe('bench');
    expect(screenFor('resources', 'cpu')).toBe('resources');
    expect(screenFor('health', 'configuration')).toBeNull();
  });
});
