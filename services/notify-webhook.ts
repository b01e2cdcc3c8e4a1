// Alerts out by webhook: every alert event the alert service marks `notify` (raised, escalated, and
// cleared after a sent raise), from every source, is POSTed to alerts.webhook.url as JSON or as a
// Slack-compatible body ({ text }). Alerts raised by other processes sharing the state database (a
// cron `health` or `logs analyze`) arrive as the service's 'external' event and are found by
// comparing the active alerts with what was seen before.
//
// - Never blocks: raise() only queues; deliveries run one at a time on timers and fetch.
// - Deduplication and cooldown across processes: before sending, a delivery row is claimed in the
//   state database inside an immediate transaction; if the same alert (source, key) had a delivery
//   of the same event within alerts.webhook.cooldownSeconds (an escalation to a higher severity
//   excepted), the event is recorded as suppressed instead. Two consoles and `serve` send once.
// - Retries with exponential backoff and jitter on network errors, timeouts, 408, 429 (Retry-After
//   honoured) and 5xx, up to alerts.webhook.retries; other 4xx fail at once.
// - Every delivery is recorded (schema "webhook"): event, alert, status, attempts, HTTP status,
//   error, duration. The queue is bounded; overflow drops the oldest and records it.
import os from 'node:os';
import type { Alert, AlertEvent, AlertService, Severity } from './alerts.js';
import type { Config } from './config.js';
import { ensureSchema, type StateDb } from './state-db.js';

export type DeliveryEvent = 'raised' | 'escalated' | 'cleared';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'suppressed' | 'dropped';

export interface WebhookOptions {
  url: string;
  format: 'json' | 'slack';
  headers: Record<string, string>;
  timeoutMs: number;
  retries: number;
  minSeverity: Severity;
  cooldownSeconds: number;
  sendCleared: boolean;
  /** Where deliveries are recorded and claimed (null: in memory only, no cross-process dedup). */
  db: StateDb | null;
  /** The site, named in the payload. */
  site?: string;
  /** First retry after this many ms, doubling (default 1000, at most 60 s). */
  backoffMs?: number;
  maxQueue?: number;
  now?: () => number;
  fetch?: typeof fetch;
  onError?: (message: string) => void;
}

export function webhookOptionsFrom(
  config: Config,
  extra: Pick<WebhookOptions, 'db' | 'site'> & Partial<WebhookOptions>,
): WebhookOptions | null {
  const w = config.alerts.webhook;
  if (!w.url) return null;
  return {
    url: w.url,
    format: w.format,
    headers: w.headers,
    timeoutMs: w.timeoutMs,
    retries: w.retries,
    minSeverity: w.minSeverity,
    cooldownSeconds: w.cooldownSeconds,
    sendCleared: w.sendCleared,
    ...extra,
  };
}

export interface Delivery {
  id: number;
  at: number;
  alertId: number;
  source: string;
  key: string;
  event: DeliveryEvent;
  severity: Severity;
  status: DeliveryStatus;
  attempts: number;
  httpStatus: number | null;
  error: string | null;
  durationMs: number | null;
}

interface Job {
  event: DeliveryEvent;
  alert: Alert;
  deliveryId: number | null;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

const SCHEMA = [
  `CREATE TABLE webhook_deliveries (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     alert_id INTEGER NOT NULL,
     source TEXT NOT NULL,
     key TEXT NOT NULL,
     event TEXT NOT NULL,
     severity TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     http_status INTEGER,
     error TEXT,
     duration_ms REAL,
     pid INTEGER
   );
   CREATE INDEX webhook_deliveries_key ON webhook_deliveries (source, key, event, at);`,
];

const KEEP_DAYS = 30;

export function ensureWebhookSchema(db: StateDb): void {
  ensureSchema(db, 'webhook', SCHEMA);
}

export function recentDeliveries(db: StateDb, limit = 100): Delivery[] {
  ensureWebhookSchema(db);
  const rows = db.prepare('SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT ?').all(limit) as Array<
    Record<string, unknown>
  >;
  return rows.map((r) => ({
    id: r.id as number,
    at: r.at as number,
    alertId: r.alert_id as number,
    source: r.source as string,
    key: r.key as string,
    event: r.event as DeliveryEvent,
    severity: r.severity as Severity,
    status: r.status as DeliveryStatus,
    attempts: r.attempts as number,
    httpStatus: (r.http_status as number | null) ?? null,
    error: (r.error as string | null) ?? null,
    durationMs: (r.duration_ms as number | null) ?? null,
  }));
}

/** The body for one event, in the configured format. */
export function webhookBody(
  format: 'json' | 'slack',
  event: DeliveryEvent,
  alert: Alert,
  opts: { site?: string; host?: string; now: number },
): Record<string, unknown> {
  const host = opts.host ?? os.hostname();
  const word = event === 'cleared' ? 'CLEARED' : alert.severity.toUpperCase();
  const text = `[${word}] ${alert.source}/${alert.key} on ${host}: ${alert.message}${
    event === 'escalated' ? ' (escalated)' : ''
  }`;
  if (format === 'slack') {
    const icon =
      event === 'cleared'
        ? ':white_check_mark:'
        : alert.severity === 'critical'
          ? ':red_circle:'
          : ':warning:';
    return {
      text:
        `${icon} *${word}* \`${alert.source}/${alert.key}\` on ${host}${opts.site ? ` (${opts.site})` : ''}\n${alert.message}` +
        `\n_first seen ${new Date(alert.firstSeen).toISOString()}, ×${alert.count}_`,
    };
  }
  return {
    event,
    text,
    host,
    site: opts.site ?? null,
    sentAt: new Date(opts.now).toISOString(),
    alert: {
      id: alert.id,
      source: alert.source,
      key: alert.key,
      severity: alert.severity,
      message: alert.message,
      details: alert.details,
      firstSeen: new Date(alert.firstSeen).toISOString(),
      lastSeen: new Date(alert.lastSeen).toISOString(),
      count: alert.count,
      active: alert.active,
      acknowledged: alert.acknowledgedAt !== null,
    },
  };
}

export class WebhookNotifier {
  private readonly queue: Job[] = [];
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private inflight: AbortController | null = null;
  private readonly now: () => number;
  private readonly idle = new Set<() => void>();
  /** What this process last saw of each active alert (for 'external' events). */
  private readonly seen = new Map<number, { severity: Severity; active: boolean }>();
  readonly stats = { queued: 0, delivered: 0, failed: 0, suppressed: 0, dropped: 0, attempts: 0 };

  constructor(private readonly opts: WebhookOptions) {
    this.now = opts.now ?? Date.now;
    if (opts.db) {
      ensureWebhookSchema(opts.db);
      opts.db.prepare('DELETE FROM webhook_deliveries WHERE at < ?').run(this.now() - KEEP_DAYS * 86_400_000);
    }
  }

  /** Sends the notify events of an alert service from now on; returns the unsubscribe function. */
  attach(service: AlertService): () => void {
    for (const a of service.active()) this.seen.set(a.id, { severity: a.severity, active: true });
    return service.subscribe((event) => this.onEvent(event, service));
  }

  private onEvent(event: AlertEvent, service: AlertService): void {
    if (event.kind === 'external') {
      this.diffExternal(service);
      return;
    }
    const a = event.alert;
    this.seen.set(a.id, { severity: a.severity, active: a.active });
    if (!event.notify) return;
    if (event.kind === 'raised' || event.kind === 'escalated' || event.kind === 'cleared')
      this.enqueue(event.kind, a);
  }

  /** Alerts another process raised, escalated or cleared since we last looked. */
  private diffExternal(service: AlertService): void {
    const active = service.active();
    const ids = new Set(active.map((a) => a.id));
    for (const a of active) {
      const before = this.seen.get(a.id);
      this.seen.set(a.id, { severity: a.severity, active: true });
      // A reopening within the alert cooldown does not page (the alert service's rule).
      if (!before?.active) {
        if (a.reopenCount === 0 || !before) this.enqueue('raised', a);
      } else if (RANK[a.severity] > RANK[before.severity]) this.enqueue('escalated', a);
    }
    for (const [id, s] of this.seen) {
      if (!s.active || ids.has(id)) continue;
      const gone = service.get(id);
      this.seen.set(id, { severity: s.severity, active: false });
      if (gone && !gone.active) this.enqueue('cleared', gone);
    }
  }

  /** Queues one event (filtered by severity and sendCleared). Returns at once. */
  enqueue(event: DeliveryEvent, alert: Alert): boolean {
    if (this.stopped) return false;
    if (event === 'cleared' && !this.opts.sendCleared) return false;
    if (RANK[alert.severity] < RANK[this.opts.minSeverity]) return false;
    // The same event for the same alert already waiting: once is enough.
    if (
      this.queue.some(
        (j) => j.alert.id === alert.id && j.event === event && j.alert.severity === alert.severity,
      )
    )
      return false;
    const max = this.opts.maxQueue ?? 100;
    while (this.queue.length >= max) {
      const dropped = this.queue.shift()!;
      this.stats.dropped++;
      this.record(dropped, 'dropped', 0, null, 'queue full', null);
    }
    this.queue.push({ event, alert, deliveryId: null });
    this.stats.queued++;
    this.kick();
    return true;
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopped && this.queue.length) {
        const job = this.queue.shift()!;
        if (!this.claim(job)) continue;
        await this.deliver(job);
      }
    } catch (err) {
      this.opts.onError?.(`webhook notifier: ${(err as Error).message}`);
    } finally {
      this.running = false;
      if (this.queue.length && !this.stopped) this.kick();
      else for (const resolve of [...this.idle]) resolve();
    }
  }

  /**
   * Claims the delivery in the state database: suppressed when a delivery of the same event for the
   * same alert happened (or is under way) within the cooldown, unless this one escalates.
   */
  private claim(job: Job): boolean {
    const db = this.opts.db;
    const now = this.now();
    const since = now - this.opts.cooldownSeconds * 1000;
    const { source, key, severity } = job.alert;
    if (!db) return true;
    const decision = db
      .transaction((): 'send' | 'suppress' => {
        // Raised and escalated share the cooldown; cleared has its own.
        const kinds = job.event === 'cleared' ? ['cleared'] : ['raised', 'escalated'];
        const last = db
          .prepare(
            `SELECT severity, status FROM webhook_deliveries WHERE source = ? AND key = ? AND event IN (${kinds
              .map(() => '?')
              .join(',')}) AND status IN ('pending', 'delivered') AND at >= ? ORDER BY at DESC LIMIT 1`,
          )
          .get(source, key, ...kinds, since) as { severity: Severity; status: string } | undefined;
        if (last && !(job.event !== 'cleared' && RANK[severity] > RANK[last.severity])) return 'suppress';
        // A clear is sent only after a raise was delivered (or is under way) for this alert.
        if (job.event === 'cleared') {
          const raised = db
            .prepare(
              `SELECT 1 FROM webhook_deliveries WHERE alert_id = ? AND event IN ('raised', 'escalated') AND status IN ('pending', 'delivered') LIMIT 1`,
            )
            .get(job.alert.id);
          if (!raised) return 'suppress';
        }
        job.deliveryId = Number(
          db
            .prepare(
              `INSERT INTO webhook_deliveries (at, alert_id, source, key, event, severity, status, pid) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`,
            )
            .run(now, job.alert.id, source, key, job.event, severity, process.pid).lastInsertRowid,
        );
        return 'send';
      })
      .immediate();
    if (decision === 'suppress') {
      this.stats.suppressed++;
      this.record(job, 'suppressed', 0, null, 'within the cooldown (or its raise was not sent)', null);
      return false;
    }
    return true;
  }

  private record(
    job: Job,
    status: DeliveryStatus,
    attempts: number,
    httpStatus: number | null,
    error: string | null,
    durationMs: number | null,
  ): void {
    const db = this.opts.db;
    if (!db) return;
    try {
      if (job.deliveryId !== null)
        db.prepare(
          'UPDATE webhook_deliveries SET status = ?, attempts = ?, http_status = ?, error = ?, duration_ms = ? WHERE id = ?',
        ).run(status, attempts, httpStatus, error, durationMs, job.deliveryId);
      else
        db.prepare(
          `INSERT INTO webhook_deliveries (at, alert_id, source, key, event, severity, status, attempts, http_status, error, duration_ms, pid)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          this.now(),
          job.alert.id,
          job.alert.source,
          job.alert.key,
          job.event,
          job.alert.severity,
          status,
          attempts,
          httpStatus,
          error,
          durationMs,
          process.pid,
        );
    } catch (err) {
      this.opts.onError?.(`webhook notifier: cannot record a delivery: ${(err as Error).message}`);
    }
  }

  private async deliver(job: Job): Promise<void> {
    const started = performance.now();
    const body = JSON.stringify(
      webhookBody(this.opts.format, job.event, job.alert, { site: this.opts.site, now: this.now() }),
    );
    const doFetch = this.opts.fetch ?? fetch;
    let lastError: string | null = null;
    let lastStatus: number | null = null;
    const attemptsAllowed = this.opts.retries + 1;
    for (let attempt = 1; attempt <= attemptsAllowed && !this.stopped; attempt++) {
      this.stats.attempts++;
      const controller = new AbortController();
      this.inflight = controller;
      const timer = setTimeout(() => controller.abort(new Error('timeout')), this.opts.timeoutMs);
      let retryAfterMs: number | null = null;
      let retry = true;
      try {
        const res = await doFetch(this.opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'cadence-ops', ...this.opts.headers },
          body,
          signal: controller.signal,
        });
        lastStatus = res.status;
        // Read (and drop) the body so the connection is released.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.stats.delivered++;
          this.record(job, 'delivered', attempt, res.status, null, performance.now() - started);
          return;
        }
        lastError = `HTTP ${res.status}`;
        retry = res.status === 408 || res.status === 429 || res.status >= 500;
        const ra = res.headers.get('retry-after');
        if (ra && /^\d+$/.test(ra)) retryAfterMs = Number(ra) * 1000;
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        lastStatus = null;
        lastError = controller.signal.aborted
          ? this.stopped
            ? 'stopped'
            : `timed out after ${this.opts.timeoutMs} ms`
          : `${e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message}`;
      } finally {
        clearTimeout(timer);
        this.inflight = null;
      }
      if (!retry || attempt === attemptsAllowed || this.stopped) {
        this.stats.failed++;
        this.record(job, 'failed', attempt, lastStatus, lastError, performance.now() - started);
        this.opts.onError?.(`webhook delivery of ${job.alert.source}/${job.alert.key} failed: ${lastError}`);
        return;
      }
      const base = this.opts.backoffMs ?? 1000;
      const backoff = Math.min(60_000, base * 2 ** (attempt - 1));
      const wait = Math.min(60_000, Math.max(retryAfterMs ?? 0, backoff * (0.8 + Math.random() * 0.4)));
      await this.sleep(wait);
    }
    if (this.stopped)
      this.record(job, 'failed', 0, lastStatus, 'stopped before delivery', performance.now() - started);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        resolve();
      };
      this.timer = setTimeout(() => this.wake?.(), ms);
      this.timer.unref?.();
    });
  }

  /** Resolves when the queue is empty and nothing is in flight (or after timeoutMs). */
  flush(timeoutMs = 30_000): Promise<boolean> {
    if (!this.running && this.queue.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.idle.delete(done);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.idle.delete(done);
        resolve(false);
      }, timeoutMs);
      t.unref?.();
      this.idle.add(done);
    });
  }

  pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Stops: aborts the delivery in flight, records what was still queued as dropped. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.inflight?.abort(new Error('stopped'));
    this.wake?.();
    for (const job of this.queue.splice(0)) {
      this.stats.dropped++;
      this.record(job, 'dropped', 0, null, 'notifier stopped', null);
    }
    for (const resolve of [...this.idle]) resolve();
  }
}
