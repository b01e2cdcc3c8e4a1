// /proc/diskstats: I/O counters per block device. Fields after major, minor and name (Documentation/
// admin-guide/iostats.rst): reads completed, reads merged, sectors read, ms reading, writes
// completed, writes merged, sectors written, ms writing, I/Os in progress, ms doing I/O, weighted
// ms; 4.18 adds four discard fields, 5.5 two flush fields. Sectors are 512 bytes whatever the disk.
import { counterDelta, counterRate } from './proc-counters.js';
import { ProcParseError } from './proc-file.js';

export interface DiskCounters {
  major: number;
  minor: number;
  name: string;
  readsCompleted: number;
  sectorsRead: number;
  writesCompleted: number;
  sectorsWritten: number;
  inProgress: number;
  ioMs: number;
}

export function parseDiskstats(text: string): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || f[0] === '') continue;
    if (f.length < 14) throw new ProcParseError('/proc/diskstats', `short line "${line.trim()}"`);
    const n = (i: number) => Number(f[i]);
    out.push({
      major: n(0),
      minor: n(1),
      name: f[2]!,
      readsCompleted: n(3),
      sectorsRead: n(5),
      writesCompleted: n(7),
      sectorsWritten: n(9),
      inProgress: n(11),
      ioMs: n(12),
    });
  }
  return out;
}

const VIRTUAL_DISK = /^(loop|ram|zram|fd|sr|nbd)\d/;
const PARTITION = /^(?:[hsv]d[a-z]+\d+|xvd[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$/;

/**
 * Whole disks worth showing: in /sys/block (partitions are not), not a loop/ram/zram/floppy/cdrom/nbd
 * device, and used at least once since boot. Without /sys, partitions are recognised by name.
 */
export function isShownDisk(d: DiskCounters, inSysBlock: ((name: string) => boolean) | null): boolean {
  if (VIRTUAL_DISK.test(d.name)) return false;
  if (d.readsCompleted === 0 && d.writesCompleted === 0) return false;
  return inSysBlock ? inSysBlock(d.name) : !PARTITION.test(d.name);
}

export interface DiskRates {
  name: string;
  readBytesPerSec: number | null;
  writeBytesPerSec: number | null;
  readsPerSec: number | null;
  writesPerSec: number | null;
  /** Share of the interval the device was busy, 0–100 (iostat's %util). */
  busyPercent: number | null;
  /** A counter went backwards (device re-created): rates resume at the next reading. */
  reset: boolean;
}

export function diskRates(prev: DiskCounters | undefined, cur: DiskCounters, elapsedMs: number): DiskRates {
  if (!prev || !(elapsedMs > 0)) {
    return {
      name: cur.name,
      readBytesPerSec: null,
      writeBytesPerSec: null,
      readsPerSec: null,
      writesPerSec: null,
      busyPercent: null,
      reset: false,
    };
  }
  const busy = counterDelta(prev.ioMs, cur.ioMs);
  const rates = {
    name: cur.name,
    readBytesPerSec: counterRate(prev.sectorsRead, cur.sectorsRead, elapsedMs, 512),
    writeBytesPerSec: counterRate(prev.sectorsWritten, cur.sectorsWritten, elapsedMs, 512),
    readsPerSec: counterRate(prev.readsCompleted, cur.readsCompleted, elapsedMs),
    writesPerSec: counterRate(prev.writesCompleted, cur.writesCompleted, elapsedMs),
    busyPercent: busy.delta === null ? null : Math.min(100, (busy.delta * 100) / elapsedMs),
    reset: false,
  };
  rates.reset =
    busy.delta === null ||
    rates.readBytesPerSec === null ||
    rates.writeBytesPerSec === null ||
    rates.readsPerSec === null ||
    rates.writesPerSec === null;
  return rates;
}
