// Progress of a long backup step: bytes done of a total, the rate over the last few seconds and
// an ETA. Reports at most ten times a second, and always at the end of a phase.

export interface BackupProgress {
  /** snapshot, archive, compress, verify, copy, restore, ... */
  phase: string;
  done: number;
  total: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
  /** The file being worked on, when there is one. */
  current?: string;
}

export type ProgressListener = (p: BackupProgress) => void;

export class ProgressMeter {
  done = 0;
  private lastReport = 0;
  private readonly samples: Array<[number, number]> = [];

  constructor(
    readonly phase: string,
    public total: number,
    private readonly listener: ProgressListener | undefined,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.samples.push([clock(), 0]);
  }

  add(bytes: number, current?: string): void {
    this.done += bytes;
    if (!this.listener) return;
    const now = this.clock();
    if (now - this.lastReport < 100) return;
    this.lastReport = now;
    this.emit(now, current);
  }

  /** Reports the final figure of the phase. */
  finish(current?: string): void {
    if (this.listener) this.emit(this.clock(), current);
  }

  private emit(now: number, current?: string): void {
    this.samples.push([now, this.done]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 3000) this.samples.shift();
    const [t0, d0] = this.samples[0]!;
    const seconds = (now - t0) / 1000;
    const rate = seconds > 0 ? (this.done - d0) / seconds : 0;
    const left = Math.max(0, this.total - this.done);
    this.listener!({
      phase: this.phase,
      done: this.done,
      total: this.total,
      bytesPerSecond: rate,
      etaSeconds: rate > 0 ? left / rate : null,
      current,
    });
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatAge(ms: number): string {
  const s = Math.max(0, ms / 1000);
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
