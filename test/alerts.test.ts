import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AlertEvent, AlertService, formatAlert } from '../services/alerts.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { bundleScript } from './helpers/bundle-script.js';

let dir: string;
let dbFile: string;
let clock: number;
const now = () => clock;
const opened: StateDb[] = [];

function open(cooldownSeconds = 300): { db: StateDb; alerts: AlertService; events: AlertEvent[] } {
  const db = openStateDb(dbFile);
  opened.push(db);
  const alerts = new AlertService(db, { cooldownSeconds, now });
  const events: AlertEvent[] = [];
  alerts.subscribe((e) => events.push(e));
  return { db, alerts, events };
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-alerts-'));
  process.env.CADENCE_OPS_STATE_DIR = dir;
  dbFile = path.join(dir, 'state.db');
  clock = Date.parse('2026-11-23T08:00:00Z');
});

afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const cpu = (severity: 'warning' | 'critical' = 'warning', message = 'CPU 91 %') => ({
  source: 'resources',
  key: 'cpu',
  severity,
  message,
});

describe('alert lifecycle', () => {
  it('raises once and deduplicates repeated raises into a count with first/last seen', () => {
    const { alerts, events } = open();
    alerts.raise(cpu());
    clock += 1000;
    alerts.raise(cpu('warning', 'CPU 93 %'));
    clock += 1000;
    alerts.raise(cpu('warning', 'CPU 94 %'));
    const active = alerts.active();
    expect(active).toHaveLength(1);
    const a = active[0]!;
    expect(a.count).toBe(3);
    expect(a.firstSeen).toBe(Date.parse('2026-11-23T08:00:00Z'));
    expect(a.lastSeen).toBe(a.firstSeen + 2000);
    expect(a.message).toBe('CPU 94 %');
    expect(events.map((e) => [e.kind, e.notify])).toEqual([
      ['raised', true],
      ['updated', false],
      ['updated', false],
    ]);
    expect(alerts.counts()).toMatchObject({ warning: 1, critical: 0, total: 1 });
    expect(formatAlert(a)).toContain('warning resources/cpu: CPU 94 % (x3');
  });

  it('escalates with a notification and drops the acknowledgement', () => {
    const { alerts, events } = open();
    const { alert } = alerts.raiseAlert(cpu());
    expect(alerts.acknowledge(alert.id, 'ops')).toBe(true);
    expect(alerts.get(alert.id)!.acknowledgedBy).toBe('ops');
    expect(alerts.counts().unacknowledged.total).toBe(0);
    alerts.raise(cpu('critical', 'CPU 99 %'));
    const a = alerts.get(alert.id)!;
    expect(a.severity).toBe('critical');
    expect(a.acknowledgedAt).toBeNull();
    expect(events.at(-1)).toMatchObject({ kind: 'escalated', notify: true });
    expect(alerts.counts()).toMatchObject({ critical: 1, warning: 0, unacknowledged: { critical: 1 } });
    // De-escalation is an update, no page.
    alerts.raise(cpu('warning'));
    expect(events.at(-1)).toMatchObject({ kind: 'updated', notify: false });
  });

  it('clears when the condition clears, and clearing nothing is a no-op', () => {
    const { alerts, events } = open();
    alerts.clear('resources', 'cpu');
    expect(events).toHaveLength(0);
    alerts.raise(cpu());
    clock += 5000;
    alerts.clear('resources', 'cpu');
    expect(alerts.active()).toHaveLength(0);
    expect(events.at(-1)).toMatchObject({ kind: 'cleared', notify: true });
    const recent = alerts.recent();
    expect(recent[0]!.active).toBe(false);
    expect(recent[0]!.clearedAt).toBe(clock);
    expect(alerts.counts().total).toBe(0);
  });

  it('cools down: a condition back within the cooldown reopens silently, a persistent one notifies later', () => {
    const { alerts, events } = open(60);
    const first = alerts.raiseAlert(cpu()).alert;
    clock += 10_000;
    alerts.clear('resources', 'cpu');
    clock += 20_000; // 20 s after clearing: within the 60 s cooldown
    const back = alerts.raiseAlert(cpu());
    expect(back.kind).toBe('reopened');
    expect(back.notify).toBe(false);
    expect(back.alert.id).toBe(first.id);
    expect(back.alert.count).toBe(2);
    expect(back.alert.firstSeen).toBe(first.firstSeen);
    expect(back.alert.reopenCount).toBe(1);
    // Flapping: clearing a silently reopened alert does not notify either.
    clock += 1000;
    alerts.clear('resources', 'cpu');
    expect(events.at(-1)).toMatchObject({ kind: 'cleared', notify: false });
    clock += 1000;
    expect(alerts.raiseAlert(cpu()).kind).toBe('reopened');
    clock += 30_000;
    expect(alerts.raiseAlert(cpu()).kind).toBe('updated');
    clock += 31_000; // still active a full cooldown after reopening: it is real
    expect(alerts.raiseAlert(cpu())).toMatchObject({ kind: 'raised', notify: true });
    clock += 1000;
    alerts.clear('resources', 'cpu');
    expect(events.at(-1)).toMatchObject({ kind: 'cleared', notify: true });
    // Past the cooldown: a fresh alert with its own id.
    clock += 61_000;
    const fresh = alerts.raiseAlert(cpu());
    expect(fresh).toMatchObject({ kind: 'raised', notify: true });
    expect(fresh.alert.id).not.toBe(first.id);
    expect(fresh.alert.count).toBe(1);
  });

  it('keeps (source, key) apart', () => {
    const { alerts } = open();
    alerts.raise(cpu());
    alerts.raise({ source: 'resources', key: 'memory', severity: 'critical', message: 'memory 95 %' });
    alerts.raise({ source: 'logs', key: 'cpu', severity: 'info', message: 'same key, other source' });
    expect(alerts.active().map((a) => `${a.severity}:${a.source}/${a.key}`)).toEqual([
      'critical:resources/memory',
      'warning:resources/cpu',
      'info:logs/cpu',
    ]);
    expect(alerts.active({ source: 'logs' })).toHaveLength(1);
    expect(alerts.counts()).toMatchObject({ info: 1, warning: 1, critical: 1, total: 3 });
  });

  it('acknowledging a cleared or unknown alert says so', () => {
    const { alerts } = open();
    const { alert } = alerts.raiseAlert(cpu());
    alerts.clear('resources', 'cpu');
    expect(alerts.acknowledge(alert.id)).toBe(false);
    expect(alerts.acknowledge(9999)).toBe(false);
  });

  it('rejects malformed input with a clear error and stores nothing', () => {
    const { alerts } = open();
    expect(() => alerts.raise({ ...cpu(), severity: 'fatal' as never })).toThrow(
      /alert.severity: expected one of/,
    );
    expect(() => alerts.raise({ ...cpu(), key: '' })).toThrow(/alert.key/);
    expect(() => alerts.raise({ ...cpu(), source: 3 as never })).toThrow(/alert.source/);
    expect(alerts.recent()).toHaveLength(0);
  });

  it('keeps details as JSON', () => {
    const { alerts } = open();
    alerts.raise({ ...cpu(), details: { value: 91.5, cores: [90, 93] } });
    expect(alerts.find('resources', 'cpu')!.details).toEqual({ value: 91.5, cores: [90, 93] });
  });

  it('a throwing listener does not break the source that raised', () => {
    const { alerts } = open();
    const unsubscribe = alerts.subscribe(() => {
      throw new Error('listener bug');
    });
    expect(() => alerts.raise(cpu())).not.toThrow();
    unsubscribe();
    expect(alerts.find('resources', 'cpu')).not.toBeNull();
  });
});

describe('persistence', () => {
  it('an active alert, its count and its acknowledgement survive a restart', () => {
    const first = open();
    const { alert } = first.alerts.raiseAlert(cpu());
    first.alerts.raise(cpu());
    first.alerts.acknowledge(alert.id, 'night shift');
    first.db.close();
    opened.splice(opened.indexOf(first.db), 1);

    const second = open();
    const again = second.alerts.active();
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ id: alert.id, count: 2, acknowledgedBy: 'night shift', active: true });
    // Raising after the restart deduplicates against the stored alert.
    expect(second.alerts.raiseAlert(cpu()).kind).toBe('updated');
    // ... and the cooldown also survives: clear, reopen, restart, clear, raise.
    second.alerts.clear('resources', 'cpu');
    second.db.close();
    opened.splice(opened.indexOf(second.db), 1);
    const third = open();
    expect(third.alerts.raiseAlert(cpu()).kind).toBe('reopened');
  });

  it('prunes cleared alerts older than keepClearedDays on open, never active ones', () => {
    const { alerts } = open();
    alerts.raise(cpu());
    alerts.clear('resources', 'cpu');
    alerts.raise({ source: 'logs', key: 'old-but-active', severity: 'warning', message: 'x' });
    clock += 31 * 86_400_000;
    const db = openStateDb(dbFile);
    opened.push(db);
    const later = new AlertService(db, { cooldownSeconds: 300, now });
    expect(later.recent().map((a) => a.key)).toEqual(['old-but-active']);
  });

  it('two connections: one sees the other through poll(), and their raises deduplicate', () => {
    const a = open();
    const b = open();
    a.alerts.raise(cpu());
    expect(b.alerts.poll()).toBe(true);
    expect(b.events.at(-1)).toMatchObject({ kind: 'external' });
    expect(b.alerts.poll()).toBe(false);
    expect(b.alerts.raiseAlert(cpu()).kind).toBe('updated');
    expect(a.alerts.active()[0]!.count).toBe(2);
  });

  it('two processes raising the same alerts at once leave one active alert per key with every raise counted', async () => {
    const script = await bundleScript(
      'alert-raiser',
      `import { AlertService } from './services/alerts.ts';
       import { openStateDb } from './services/state-db.ts';
       const db = openStateDb(process.argv[2]!);
       const alerts = new AlertService(db, { cooldownSeconds: 300 });
       for (let i = 0; i < 200; i++) {
         alerts.raise({ source: 'resources', key: 'k' + (i % 4), severity: i % 2 ? 'warning' : 'critical', message: 'm' + i });
       }
       db.close();`,
    );
    const run = () =>
      new Promise<number>((resolve, reject) => {
        const child = fork(script, [dbFile], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('exit', (code) => resolve(code ?? -1));
      });
    const codes = await Promise.all([run(), run()]);
    expect(codes).toEqual([0, 0]);
    const { alerts } = open();
    const active = alerts.active();
    expect(active.map((x) => x.key).sort()).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(active.reduce((n, x) => n + x.count, 0)).toBe(400);
  });
});
