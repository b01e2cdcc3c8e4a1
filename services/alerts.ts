// The alert service shared by every screen and headless run: sources (resources, logs, backups,
// database, health) raise and clear through the AlertSink interface; this service deduplicates,
// cools down flapping conditions, keeps first/last seen and a count, records acknowledgements, and
// keeps it all in the console's state database so a restart (or a second console) sees the same
// active alerts.
//
// Lifecycle of one (source, key):
//   raise, no active alert        -> a new alert; event 'raised' (notify)
//   raise, alert active           -> count+1, last seen, message; event 'updated'; 'escalated'
//                                    (notify) when the severity rises, which also drops an ack
//   clear                         -> the alert is cleared; event 'cleared' (notify if its raise was)
//   raise within cooldownSeconds  -> the cleared alert reopens (same id, count continues, ack kept);
//   after it cleared                 event 'reopened' WITHOUT notify: a flapping condition does not
//                                    page twice. If it is still active cooldownSeconds after the
//                                    reopening, the next raise notifies ('raised', notify).
//   acknowledge                   -> acked_at/acked_by set; the alert stays active until it clears
//
// Listeners are plain callbacks (no React): the header subscribes for counts, the webhook notifier
// sends the events whose `notify` is true. Changes made by another process sharing the database are
// picked up by poll() (cheap: PRAGMA data_version) and announced as an 'external' event.
import type { AlertInput, AlertSink, Severity } from './alert-sink.js';
import { ensureSchema, type StateDb } from './state-db.js';

export type { AlertInput, Severity } from './alert-sink.js';

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export interface Alert {
  id: number;
  source: string;
  key: string;
  severity: Severity;
  message: string;
  details: Record<string, unknown> | null;
  /** Epoch ms when the condition was first seen (kept across a reopening within the cooldown). */
  firstSeen: number;
  /** Epoch ms of the last raise. */
  lastSeen: number;
  /** How many times it was raised (each raise of an active alert counts). */
  count: number;
  active: boolean;
  clearedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  /** How many times it cleared and came back within the cooldown. */
  reopenCount: number;
}

export type AlertEventKind = 'raised' | 'updated' | 'escalated' | 'reopened' | 'cleared' | 'acknowledged';

export type AlertEvent =
  | { kind: AlertEventKind; alert: Alert /** A notifier (webhook) should send this one. */; notify: boolean }
  | { kind: 'external'; alert: null; notify: false };

export type AlertListener = (event: AlertEvent) => void;

export interface AlertCounts {
  info: number;
  warning: number;
  critical: number;
  total: number;
  /** Active and not acknowledged, by severity. */
  unacknowledged: { info: number; warning: number; critical: number; total: number };
}

export interface AlertServiceOptions {
  /** After a clear, a raise within this many seconds reopens the same alert without notifying. */
  cooldownSeconds: number;
  now?: () => number;
  /** Cleared alerts older than this are deleted when the service opens (default 30 days). */
  keepClearedDays?: number;
}

export const ALERTS_SCHEMA = 'alerts';

const SCHEMA_STEPS = [
  `CREATE TABLE alerts (
     id INTEGER PRIMARY KEY,
     source TEXT NOT NULL,
     key TEXT NOT NULL,
     severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
     message TEXT NOT NULL,
     details TEXT,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     count INTEGER NOT NULL DEFAULT 1,
     active INTEGER NOT NULL DEFAULT 1,
     cleared_at INTEGER,
     acked_at INTEGER,
     acked_by TEXT,
     reopened_at INTEGER,
     reopen_count INTEGER NOT NULL DEFAULT 0,
     notified TEXT
   );
   CREATE UNIQUE INDEX alerts_one_active ON alerts(source, key) WHERE active = 1;
   CREATE INDEX alerts_by_key ON alerts(source, key, cleared_at);
   CREATE INDEX alerts_active ON alerts(active, severity);`,
];

interface Row {
  id: number;
  source: string;
  key: string;
  severity: Severity;
  message: string;
  details: string | null;
  first_seen: number;
  last_seen: number;
  count: number;
  active: number;
  cleared_at: number | null;
  acked_at: number | null;
  acked_by: string | null;
  reopened_at: number | null;
  reopen_count: number;
  notified: 'raised' | 'cleared' | null;
}

function toAlert(row: Row): Alert {
  let details: Record<string, unknown> | null = null;
  if (row.details) {
    try {
      details = JSON.parse(row.details);
    } catch {
      details = { unparsable: row.details };
    }
  }
  return {
    id: row.id,
    source: row.source,
    key: row.key,
    severity: row.severity,
    message: row.message,
    details,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    count: row.count,
    active: row.active === 1,
    clearedAt: row.cleared_at,
    acknowledgedAt: row.acked_at,
    acknowledgedBy: row.acked_by,
    reopenCount: row.reopen_count,
  };
}

function checkInput(alert: AlertInput): void {
  if (!alert || typeof alert !== 'object') throw new TypeError('alert: expected an object');
  if (typeof alert.source !== 'string' || alert.source === '')
    throw new TypeError('alert.source: expected a non-empty string');
  if (typeof alert.key !== 'string' || alert.key === '')
    throw new TypeError('alert.key: expected a non-empty string');
  if (!SEVERITIES.includes(alert.severity))
    throw new TypeError(
      `alert.severity: expected one of ${SEVERITIES.join(', ')}, got ${String(alert.severity)}`,
    );
  if (typeof alert.message !== 'string') throw new TypeError('alert.message: expected a string');
}

export class AlertService implements AlertSink {
  private readonly listeners = new Set<AlertListener>();
  private readonly now: () => number;
  private cooldownMs: number;
  private dataVersion: number;
  private readonly stmt: ReturnType<AlertService['prepare']>;

  constructor(
    private readonly db: StateDb,
    opts: AlertServiceOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.cooldownMs = Math.max(0, opts.cooldownSeconds) * 1000;
    ensureSchema(db, ALERTS_SCHEMA, SCHEMA_STEPS);
    this.stmt = this.prepare();
    const keepMs = (opts.keepClearedDays ?? 30) * 86_400_000;
    this.stmt.prune.run(this.now() - keepMs);
    this.dataVersion = this.readDataVersion();
  }

  private prepare() {
    const db = this.db;
    return {
      active: db.prepare<[string, string], Row>(
        'SELECT * FROM alerts WHERE source = ? AND key = ? AND active = 1',
      ),
      lastCleared: db.prepare<[string, string], Row>(
        'SELECT * FROM alerts WHERE source = ? AND key = ? AND active = 0 ORDER BY cleared_at DESC LIMIT 1',
      ),
      byId: db.prepare<[number], Row>('SELECT * FROM alerts WHERE id = ?'),
      insert: db.prepare(
        `INSERT INTO alerts (source, key, severity, message, details, first_seen, last_seen, count, active, notified)
         VALUES (@source, @key, @severity, @message, @details, @now, @now, 1, 1, 'raised')`,
      ),
      bump: db.prepare(
        `UPDATE alerts SET severity = @severity, message = @message, details = @details, last_seen = @now,
           count = count + 1, acked_at = @ackedAt, acked_by = @ackedBy, notified = @notified WHERE id = @id`,
      ),
      reopen: db.prepare(
        `UPDATE alerts SET severity = @severity, message = @message, details = @details, last_seen = @now,
           count = count + 1, active = 1, cleared_at = NULL, reopened_at = @now, reopen_count = reopen_count + 1
         WHERE id = @id`,
      ),
      clear: db.prepare(
        `UPDATE alerts SET active = 0, cleared_at = @now, notified = 'cleared' WHERE id = @id`,
      ),
      ack: db.prepare('UPDATE alerts SET acked_at = @now, acked_by = @by WHERE id = @id AND active = 1'),
      listActive: db.prepare<[], Row>(
        `SELECT * FROM alerts WHERE active = 1
         ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, last_seen DESC`,
      ),
      listAll: db.prepare<[number], Row>(
        'SELECT * FROM alerts ORDER BY active DESC, COALESCE(cleared_at, last_seen) DESC LIMIT ?',
      ),
      counts: db.prepare<[], { severity: Severity; n: number; unacked: number }>(
        `SELECT severity, COUNT(*) AS n, SUM(acked_at IS NULL) AS unacked FROM alerts WHERE active = 1 GROUP BY severity`,
      ),
      prune: db.prepare('DELETE FROM alerts WHERE active = 0 AND cleared_at < ?'),
    };
  }

  private readDataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  setCooldownSeconds(seconds: number): void {
    this.cooldownMs = Math.max(0, seconds) * 1000;
  }

  /** Raises (or refreshes) the alert for (source, key). Throws a TypeError naming the bad field. */
  raise(input: AlertInput): void {
    this.raiseAlert(input);
  }

  /** raise() that returns the stored alert and what happened to it. */
  raiseAlert(input: AlertInput): { alert: Alert; kind: AlertEventKind; notify: boolean } {
    checkInput(input);
    const now = this.now();
    const details = input.details === undefined ? null : JSON.stringify(input.details);
    const result = this.db
      .transaction((): { id: number; kind: AlertEventKind; notify: boolean } => {
        const active = this.stmt.active.get(input.source, input.key);
        if (active) {
          const escalated = RANK[input.severity] > RANK[active.severity];
          // A reopened (silent) alert that is still there a cooldown later is real: notify then.
          const persisted =
            active.notified === 'cleared' &&
            active.reopened_at !== null &&
            now - active.reopened_at >= this.cooldownMs;
          const notify = escalated || persisted;
          this.stmt.bump.run({
            id: active.id,
            severity: input.severity,
            message: input.message,
            details,
            now,
            ackedAt: escalated ? null : active.acked_at,
            ackedBy: escalated ? null : active.acked_by,
            notified: notify ? 'raised' : active.notified,
          });
          return { id: active.id, kind: escalated ? 'escalated' : persisted ? 'raised' : 'updated', notify };
        }
        const last = this.cooldownMs > 0 ? this.stmt.lastCleared.get(input.source, input.key) : undefined;
        if (last && last.cleared_at !== null && now - last.cleared_at < this.cooldownMs) {
          this.stmt.reopen.run({
            id: last.id,
            severity: input.severity,
            message: input.message,
            details,
            now,
          });
          return { id: last.id, kind: 'reopened', notify: false };
        }
        const info = this.stmt.insert.run({
          source: input.source,
          key: input.key,
          severity: input.severity,
          message: input.message,
          details,
          now,
        });
        return { id: Number(info.lastInsertRowid), kind: 'raised', notify: true };
      })
      .immediate();
    const alert = toAlert(this.stmt.byId.get(result.id)!);
    this.dataVersion = this.readDataVersion();
    this.emit({ kind: result.kind, alert, notify: result.notify });
    return { alert, kind: result.kind, notify: result.notify };
  }

  /** The condition is gone: the active alert for (source, key), if any, clears. */
  clear(source: string, key: string): void {
    // A read first: clearing what is not active (the common case, every tick) takes no write lock.
    if (!this.stmt.active.get(source, key)) return;
    const cleared = this.db
      .transaction(() => {
        const active = this.stmt.active.get(source, key);
        if (!active) return null;
        this.stmt.clear.run({ id: active.id, now: this.now() });
        return { id: active.id, notify: active.notified === 'raised' };
      })
      .immediate();
    if (!cleared) return;
    this.dataVersion = this.readDataVersion();
    this.emit({ kind: 'cleared', alert: toAlert(this.stmt.byId.get(cleared.id)!), notify: cleared.notify });
  }

  /** Acknowledges an active alert by id; false when there is no such active alert. */
  acknowledge(id: number, by: string | null = null): boolean {
    const info = this.stmt.ack.run({ id, now: this.now(), by });
    if (info.changes === 0) return false;
    this.dataVersion = this.readDataVersion();
    this.emit({ kind: 'acknowledged', alert: toAlert(this.stmt.byId.get(id)!), notify: false });
    return true;
  }

  get(id: number): Alert | null {
    const row = this.stmt.byId.get(id);
    return row ? toAlert(row) : null;
  }

  /** The active alert for (source, key), if any. */
  find(source: string, key: string): Alert | null {
    const row = this.stmt.active.get(source, key);
    return row ? toAlert(row) : null;
  }

  /** Active alerts, most severe first, newest first within a severity. */
  active(filter: { source?: string } = {}): Alert[] {
    const rows = this.stmt.listActive.all().map(toAlert);
    return filter.source ? rows.filter((a) => a.source === filter.source) : rows;
  }

  /** Active and recently cleared alerts, active first. */
  recent(limit = 200): Alert[] {
    return this.stmt.listAll.all(limit).map(toAlert);
  }

  counts(): AlertCounts {
    const out: AlertCounts = {
      info: 0,
      warning: 0,
      critical: 0,
      total: 0,
      unacknowledged: { info: 0, warning: 0, critical: 0, total: 0 },
    };
    for (const row of this.stmt.counts.all()) {
      out[row.severity] = row.n;
      out.total += row.n;
      out.unacknowledged[row.severity] = row.unacked;
      out.unacknowledged.total += row.unacked;
    }
    return out;
  }

  /** Calls the listener on every change; returns the function that unsubscribes it. */
  subscribe(listener: AlertListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Checks whether another process changed the alerts since we last looked (a cheap pragma) and if
   * so tells the listeners with an 'external' event. Call it on a timer (the console does each tick).
   */
  poll(): boolean {
    const version = this.readDataVersion();
    if (version === this.dataVersion) return false;
    this.dataVersion = version;
    this.emit({ kind: 'external', alert: null, notify: false });
    return true;
  }

  private emit(event: AlertEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A failing listener (a screen being torn down, a notifier bug) must not break the source
        // that raised the alert; listeners report their own errors.
      }
    }
  }
}

/** One-line human form: `critical resources/cpu: CPU 97 % (x12, since 08:17:41)`. */
export function formatAlert(alert: Alert): string {
  const since = new Date(alert.firstSeen).toISOString().replace('T', ' ').slice(0, 19);
  const ack = alert.acknowledgedAt ? ', acknowledged' : '';
  const state = alert.active ? '' : ', cleared';
  return `${alert.severity} ${alert.source}/${alert.key}: ${alert.message} (x${alert.count}, since ${since}${ack}${state})`;
}
