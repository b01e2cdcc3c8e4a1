// The small interface every source of alerts (resources, logs, backups, database, health) raises
// through. The alert service (services/alerts.ts) implements it: deduplication, cooldown, clearing,
// acknowledgement and persistence live there, not in the sources.
export type Severity = 'info' | 'warning' | 'critical';

export interface AlertInput {
  /** Which capability raised it: 'resources', 'logs', 'backups', 'database', 'health', ... */
  source: string;
  /** Stable identity within the source (e.g. 'cpu', 'cluster:42'): the same key deduplicates. */
  key: string;
  severity: Severity;
  message: string;
  details?: Record<string, unknown>;
}

export interface AlertSink {
  raise(alert: AlertInput): void;
  /** The condition is gone: the alert clears. */
  clear(source: string, key: string): void;
}

export const nullAlertSink: AlertSink = { raise() {}, clear() {} };
