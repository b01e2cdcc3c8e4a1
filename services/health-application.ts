// Health check "application status": the Candy-Cadence process is up (pid file checked against
// /proc, else the command-line pattern) and its log heartbeat is fresh: the application writes a
// `Heartbeat:` INFO line to candy_cadence.log every 30 s; the newest one must be younger than
// app.heartbeatMaxAgeSeconds. A process that is up but has stopped writing its heartbeat is hung.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { findAppProcess, processUptimeSeconds } from './app-process.js';
import { formatDuration } from './app-status.js';
import { type CheckContext, type CheckOutcome, outcome } from './health-types.js';
import { parseTimestamp } from './log-parse.js';

export const HEARTBEAT_MARK = 'Heartbeat:';
const CHUNK = 64 * 1024;

/**
 * The time of the newest line containing `mark` in a file, reading backwards in 64 KB chunks up to
 * `maxBytes` from the end. Null when the file is missing or has no such line in that stretch.
 */
export function lastMarkedLineTime(file: string, mark: string, maxBytes = 8 * 1024 * 1024): number | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    let end = size;
    let carry = Buffer.alloc(0);
    const floor = Math.max(0, size - maxBytes);
    while (end > floor) {
      const start = Math.max(floor, end - CHUNK);
      const buf = Buffer.alloc(end - start);
      readSync(fd, buf, 0, buf.length, start);
      const block = Buffer.concat([buf, carry]);
      // The first (partial) line of the block is kept for the next round, unless we are at the start.
      const firstNl = start > floor ? block.indexOf(10) : -1;
      const whole = firstNl >= 0 ? block.subarray(firstNl + 1) : block;
      const lines = whole.toString('utf8').split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const line = lines[i]!;
        if (!line.includes(mark)) continue;
        const ts = parseTimestamp(line);
        if (ts) return ts.time;
      }
      carry = firstNl >= 0 ? block.subarray(0, firstNl) : Buffer.alloc(0);
      end = start;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The newest heartbeat in candy_cadence.log, or in candy_cadence.log.1 right after a rotation. */
export function lastHeartbeat(logsDir: string): { time: number | null; file: string | null } {
  for (const name of ['candy_cadence.log', 'candy_cadence.log.1']) {
    const file = path.join(logsDir, name);
    const time = lastMarkedLineTime(file, HEARTBEAT_MARK);
    if (time !== null) return { time, file: name };
  }
  return { time: null, file: null };
}

export function checkApplication(ctx: CheckContext): CheckOutcome {
  const { paths, config } = ctx;
  const found = findAppProcess({
    pidFile: paths.pidFile,
    pattern: config.app.processPattern,
    siteRoot: paths.root,
  });
  const proc = found.process;
  const uptime = proc ? processUptimeSeconds(proc.pid) : null;
  const hb = lastHeartbeat(paths.logs);
  const maxAge = config.app.heartbeatMaxAgeSeconds;
  const ageS = hb.time === null ? null : Math.max(0, (ctx.now - hb.time) / 1000);
  const findings: string[] = [];
  const data = {
    up: proc !== null,
    pid: proc?.pid ?? null,
    via: proc?.via ?? null,
    uptimeSeconds: uptime,
    stalePidFile: found.stalePidFile?.reason ?? null,
    heartbeatAt: hb.time,
    heartbeatAgeSeconds: ageS,
    heartbeatMaxAgeSeconds: maxAge,
  };
  if (found.stalePidFile) findings.push(found.stalePidFile.reason);
  const start = config.app.startCommand
    ? `start it (${config.app.startCommand})`
    : 'start Candy-Cadence (set app.startCommand to start it from here)';
  const heartbeatText =
    ageS === null ? 'no heartbeat in candy_cadence.log' : `last heartbeat ${formatDuration(ageS)} ago`;
  if (!proc) {
    findings.unshift(`not running (pid file ${paths.pidFile}, pattern "${config.app.processPattern}")`);
    return outcome(
      'critical',
      `application not running; ${heartbeatText}`,
      `${start}; check error.log for why it stopped${found.stalePidFile ? ' and remove the stale pid file' : ''}`,
      findings,
      data,
    );
  }
  const upText =
    `up ${uptime !== null ? formatDuration(uptime) : ''} (pid ${proc.pid}, by ${proc.via})`.replace(
      '  ',
      ' ',
    );
  if (ageS === null) {
    findings.push(`no "${HEARTBEAT_MARK}" line in the last 8 MB of candy_cadence.log or its .1`);
    // Just started: the first heartbeat may not be written yet.
    const young = uptime !== null && uptime < maxAge;
    return outcome(
      young ? 'ok' : 'warning',
      `application ${upText}; ${young ? 'no heartbeat yet (just started)' : 'no heartbeat found in its log'}`,
      'check that the application logs to logs/candy_cadence.log at INFO level (the heartbeat is an INFO line)',
      findings,
      data,
    );
  }
  if (ageS > maxAge) {
    const level = ageS > 2 * maxAge ? 'critical' : 'warning';
    findings.push(`heartbeat ${formatDuration(ageS)} old, limit ${formatDuration(maxAge)}`);
    return outcome(
      level,
      `application ${upText} but ${heartbeatText} (limit ${formatDuration(maxAge)}): hung?`,
      `the process is up but silent: look at error.log and the Resources screen (CPU, RSS), then restart it${config.app.stopCommand ? ` (${config.app.stopCommand}, then start)` : ''}`,
      findings,
      data,
    );
  }
  return outcome('ok', `application ${upText}; ${heartbeatText}`, null, findings, data);
}
