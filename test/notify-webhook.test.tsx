// The webhook notifier against real local HTTP servers: one that answers, one that fails and then
// recovers, one that always fails, one that hangs, one that refuses (4xx); the Slack body; severity
// filter, cooldown and escalation; deduplication between two processes' notifiers sharing the state
// database; alerts raised by another process; and that raising never waits for a delivery.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sharedAlerts } from '../screens/shared-services.js';
import { AlertService } from '../services/alerts.js';
import { defaultConfig } from '../services/config.js';
import {
  recentDeliveries,
  WebhookNotifier,
  type WebhookOptions,
  webhookOptionsFrom,
} from '../services/notify-webhook.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { renderShell, until } from './helpers/shell.js';
import { tempDir } from './helpers/temp-site.js';

interface Received {
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
  at: number;
}

const servers: Server[] = [];
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  for (const c of cleanups.splice(0)) c();
});

async function server(
  handle: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const s = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      received.push({ body: JSON.parse(text || '{}'), headers: req.headers, at: Date.now() });
      handle(req, res, received.length);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`, received };
}

function setup(url: string, patch: Partial<WebhookOptions> = {}, db?: StateDb) {
  const state = db ?? openStateDb(':memory:');
  const alerts = new AlertService(state, { cooldownSeconds: 0 });
  const notifier = new WebhookNotifier({
    url,
    format: 'json',
    headers: { authorization: 'Bearer test-token' },
    timeoutMs: 500,
    retries: 3,
    minSeverity: 'warning',
    cooldownSeconds: 300,
    sendCleared: true,
    db: state,
    site: '/srv/site',
    backoffMs: 20,
    ...patch,
  });
  const detach = notifier.attach(alerts);
  cleanups.push(() => {
    detach();
    notifier.stop();
    if (!db) state.close();
  });
  return { state, alerts, notifier };
}

const raise = (alerts: AlertService, key = 'disk', severity: 'info' | 'warning' | 'critical' = 'critical') =>
  alerts.raise({ source: 'resources', key, severity, message: `${key} is ${severity}` });

describe('webhook notifier', () => {
  it('POSTs JSON with the configured headers and records the delivery; a clear follows', async () => {
    const srv = await server((_req, res) => res.end('ok'));
    const { alerts, notifier, state } = setup(srv.url);
    raise(alerts);
    await notifier.flush(5000);
    expect(srv.received).toHaveLength(1);
    const first = srv.received[0]!;
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers.authorization).toBe('Bearer test-token');
    expect(first.body).toMatchObject({
      event: 'raised',
      site: '/srv/site',
      alert: {
        source: 'resources',
        key: 'disk',
        severity: 'critical',
        message: 'disk is critical',
        count: 1,
      },
    });
    expect(first.body.text).toMatch(/^\[CRITICAL\] resources\/disk on /);
    alerts.clear('resources', 'disk');
    await notifier.flush(5000);
    expect(srv.received.map((r) => r.body.event)).toEqual(['raised', 'cleared']);
    const rows = recentDeliveries(state);
    expect(rows.map((r) => `${r.event}:${r.status}:${r.attempts}:${r.httpStatus}`)).toEqual([
      'cleared:delivered:1:200',
      'raised:delivered:1:200',
    ]);
  });

  it('a Slack-compatible body is one text field', async () => {
    const srv = await server((_req, res) => res.end('ok'));
    const { alerts, notifier } = setup(srv.url, { format: 'slack' });
    raise(alerts, 'cpu', 'warning');
    await notifier.flush(5000);
    expect(Object.keys(srv.received[0]!.body)).toEqual(['text']);
    expect(srv.received[0]!.body.text).toMatch(
      /^:warning: \*WARNING\* `resources\/cpu` on .* \(\/srv\/site\)\ncpu is warning/,
    );
  });

  it('retries a failing server with growing backoff and delivers when it recovers', async () => {
    const srv = await server((_req, res, n) => {
      res.statusCode = n < 3 ? 503 : 200;
      res.end();
    });
    const { alerts, notifier, state } = setup(srv.url);
    raise(alerts);
    await notifier.flush(5000);
    expect(srv.received).toHaveLength(3);
    const gaps = [srv.received[1]!.at - srv.received[0]!.at, srv.received[2]!.at - srv.received[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(14); // 20 ms ± 20 % jitter
    expect(gaps[1]).toBeGreaterThanOrEqual(30); // then 40 ms
    const [row] = recentDeliveries(state);
    expect(row).toMatchObject({ status: 'delivered', attempts: 3, httpStatus: 200 });
  });

  it('gives up after the retries on a server that keeps failing, and at once on a 4xx', async () => {
    const bad = await server((_req, res) => {
      res.statusCode = 500;
      res.end('broken');
    });
    const a = setup(bad.url, { retries: 2 });
    raise(a.alerts);
    await a.notifier.flush(5000);
    expect(bad.received).toHaveLength(3);
    expect(recentDeliveries(a.state)[0]).toMatchObject({
      status: 'failed',
      attempts: 3,
      httpStatus: 500,
      error: 'HTTP 500',
    });

    const refused = await server((_req, res) => {
      res.statusCode = 400;
      res.end();
    });
    const b = setup(refused.url, { retries: 5 });
    raise(b.alerts);
    await b.notifier.flush(5000);
    expect(refused.received).toHaveLength(1);
    expect(recentDeliveries(b.state)[0]).toMatchObject({ status: 'failed', attempts: 1, httpStatus: 400 });
  });

  it('a hanging server times out each attempt; raising never waits for it', async () => {
    const hang = await server(() => {
      // Never answers.
    });
    const { alerts, notifier, state } = setup(hang.url, { timeoutMs: 150, retries: 1 });
    const t = performance.now();
    raise(alerts, 'a');
    raise(alerts, 'b', 'warning');
    const raiseMs = performance.now() - t;
    expect(raiseMs).toBeLessThan(100);
    expect(notifier.pending()).toBeGreaterThan(0);
    await notifier.flush(10_000);
    expect(hang.received).toHaveLength(4);
    const rows = recentDeliveries(state);
    expect(rows).toHaveLength(2);
    for (const r of rows)
      expect(r).toMatchObject({ status: 'failed', attempts: 2, error: 'timed out after 150 ms' });
  });

  it('a refused connection is a failure with the reason, after the retries', async () => {
    const srv = await server((_req, res) => res.end());
    const url = srv.url;
    servers.pop()!.close();
    const { alerts, notifier, state } = setup(url, { retries: 1 });
    raise(alerts);
    await notifier.flush(5000);
    expect(recentDeliveries(state)[0]).toMatchObject({ status: 'failed', attempts: 2 });
    expect(recentDeliveries(state)[0]!.error).toMatch(/ECONNREFUSED/);
  });

  it('filters by severity; the cooldown suppresses a repeat, an escalation passes', async () => {
    const srv = await server((_req, res) => res.end());
    const { alerts, notifier, state } = setup(srv.url);
    raise(alerts, 'load', 'info');
    raise(alerts, 'mem', 'warning');
    await notifier.flush(5000);
    expect(srv.received.map((r) => (r.body.alert as { key: string }).key)).toEqual(['mem']);
    // Clear and raise again (the alert service's own cooldown is 0 here, so it notifies again):
    alerts.clear('resources', 'mem');
    raise(alerts, 'mem', 'warning');
    await notifier.flush(5000);
    // The clear went out; the second raise fell within the webhook cooldown.
    expect(srv.received.map((r) => r.body.event)).toEqual(['raised', 'cleared']);
    expect(recentDeliveries(state)[0]).toMatchObject({ event: 'raised', status: 'suppressed' });
    raise(alerts, 'mem', 'critical');
    await notifier.flush(5000);
    expect(srv.received.map((r) => r.body.event)).toEqual(['raised', 'cleared', 'escalated']);
  });

  it('two notifiers on one state database (two consoles) send an alert once', async () => {
    const srv = await server((_req, res) => res.end());
    const file = path.join(tempDir(), 'state.db');
    const dbA = openStateDb(file);
    const dbB = openStateDb(file);
    cleanups.push(() => {
      dbA.close();
      dbB.close();
    });
    const a = setup(srv.url, {}, dbA);
    const b = setup(srv.url, {}, dbB);
    raise(a.alerts, 'backup');
    // B learns of it as another process would: the alert service's poll.
    b.alerts.poll();
    await Promise.all([a.notifier.flush(5000), b.notifier.flush(5000)]);
    expect(srv.received).toHaveLength(1);
    expect(
      recentDeliveries(dbA)
        .map((r) => r.status)
        .sort(),
    ).toEqual(['delivered', 'suppressed']);
  });

  it('sends alerts another process raised (seen through poll), and their clearing', async () => {
    const srv = await server((_req, res) => res.end());
    const file = path.join(tempDir(), 'state.db');
    const consoleDb = openStateDb(file);
    const cronDb = openStateDb(file);
    cleanups.push(() => {
      consoleDb.close();
      cronDb.close();
    });
    const { alerts, notifier } = setup(srv.url, {}, consoleDb);
    const cron = new AlertService(cronDb, { cooldownSeconds: 0 });
    cron.raise({ source: 'health', key: 'backups', severity: 'critical', message: 'no verified backup' });
    expect(alerts.poll()).toBe(true);
    await notifier.flush(5000);
    cron.clear('health', 'backups');
    alerts.poll();
    await notifier.flush(5000);
    expect(srv.received.map((r) => `${r.body.event} ${(r.body.alert as { key: string }).key}`)).toEqual([
      'raised backups',
      'cleared backups',
    ]);
  });

  it('the console starts it when a URL is configured and sends what its screens raise', async () => {
    const srv = await server((_req, res) => res.end());
    const home = tempDir();
    const root = path.join(home, 'site');
    mkdirSync(root);
    writeFileSync(
      path.join(root, 'cadence-ops.json'),
      JSON.stringify({ alerts: { webhook: { url: srv.url, cooldownSeconds: 0 } } }),
    );
    const shell = renderShell({ root, initialScreen: 'bench', columns: 100, rows: 30 });
    cleanups.push(() => void shell.dispose());
    await until(() => shell.context.services.has('webhook-notifier'), 5000, 'notifier started');
    sharedAlerts(shell.context).service.raise({
      source: 'database',
      key: 'integrity',
      severity: 'critical',
      message: 'integrity check found 2 problems',
    });
    await until(() => srv.received.length === 1, 5000, 'delivery');
    expect(srv.received[0]!.body).toMatchObject({ event: 'raised', site: root, alert: { key: 'integrity' } });
  });

  it('is configured from alerts.webhook, and only when a URL is set', () => {
    const config = defaultConfig();
    expect(webhookOptionsFrom(config, { db: null })).toBeNull();
    config.alerts.webhook.url = 'http://127.0.0.1:1/x';
    expect(webhookOptionsFrom(config, { db: null })).toMatchObject({
      url: 'http://127.0.0.1:1/x',
      format: 'json',
      retries: 3,
      cooldownSeconds: 300,
      minSeverity: 'warning',
    });
  });
});
