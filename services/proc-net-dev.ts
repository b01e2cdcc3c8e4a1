// /proc/net/dev: per-interface counters of the network namespace we run in. After "name:" come 8
// receive fields (bytes packets errs drop fifo frame compressed multicast) and 8 transmit fields
// (bytes packets errs drop fifo colls carrier compressed). Old kernels glue big numbers to the colon.
import { counterRate } from './proc-counters.js';
import { ProcParseError } from './proc-file.js';

export interface NetCounters {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

export function parseNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 16 || f.some((x) => !Number.isFinite(x)))
      throw new ProcParseError('/proc/net/dev', `malformed line for ${name}`);
    out.push({
      name,
      rxBytes: f[0]!,
      rxPackets: f[1]!,
      rxErrors: f[2]!,
      rxDropped: f[3]!,
      txBytes: f[8]!,
      txPackets: f[9]!,
      txErrors: f[10]!,
      txDropped: f[11]!,
    });
  }
  return out;
}

export interface NetRates {
  name: string;
  rxBytesPerSec: number | null;
  txBytesPerSec: number | null;
  rxPacketsPerSec: number | null;
  txPacketsPerSec: number | null;
  /** Errors and drops, both directions, per second. */
  errorsPerSec: number | null;
  reset: boolean;
}

export function netRates(prev: NetCounters | undefined, cur: NetCounters, elapsedMs: number): NetRates {
  if (!prev || !(elapsedMs > 0)) {
    return {
      name: cur.name,
      rxBytesPerSec: null,
      txBytesPerSec: null,
      rxPacketsPerSec: null,
      txPacketsPerSec: null,
      errorsPerSec: null,
      reset: false,
    };
  }
  const rate = (k: keyof Omit<NetCounters, 'name'>) => counterRate(prev[k], cur[k], elapsedMs);
  const errs = [rate('rxErrors'), rate('txErrors'), rate('rxDropped'), rate('txDropped')];
  const r = {
    name: cur.name,
    rxBytesPerSec: rate('rxBytes'),
    txBytesPerSec: rate('txBytes'),
    rxPacketsPerSec: rate('rxPackets'),
    txPacketsPerSec: rate('txPackets'),
    errorsPerSec: errs.some((x) => x === null) ? null : errs.reduce((a, b) => a! + b!, 0),
    reset: false,
  };
  r.reset = r.rxBytesPerSec === null || r.txBytesPerSec === null || r.rxPacketsPerSec === null;
  return r;
}
