// Filesystems: /proc/self/mountinfo for what is mounted (with the device number, so a bind mount
// of the same filesystem is shown once), statfs(2) for the usage (fs.statfsSync, ~2 µs, no `df`).
// "Real" filesystems are the ones a disk, a volume manager or a network share backs; kernel pseudo
// filesystems and tmpfs are left out unless they hold a marked folder (the site, the backups).
import { realpathSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { ProcParseError } from './proc-file.js';

export interface MountEntry {
  mountId: number;
  /** "major:minor" of the filesystem's device. */
  device: string;
  /** The folder of the filesystem that is mounted here ("/" unless it is a bind mount of a subfolder). */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
  readOnly: boolean;
}

/** mountinfo escapes space, tab, newline and backslash as \040 \011 \012 \134. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0 || dash + 2 >= f.length)
      throw new ProcParseError('/proc/self/mountinfo', `malformed line "${line.slice(0, 80)}"`);
    out.push({
      mountId: Number(f[0]),
      device: f[2]!,
      root: unescapeMount(f[3]!),
      mountPoint: unescapeMount(f[4]!),
      readOnly: f[5]!.split(',').includes('ro'),
      fsType: f[dash + 1]!,
      source: unescapeMount(f[dash + 2]!),
    });
  }
  return out;
}

const PSEUDO = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'efivarfs',
  'fusectl',
  'fuse.gvfsd-fuse',
  'fuse.lxcfs',
  'fuse.portal',
  'hugetlbfs',
  'mqueue',
  'nfsd',
  'nsfs',
  'proc',
  'pstore',
  'ramfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'squashfs',
  'sysfs',
  'tmpfs',
  'tracefs',
]);

const NETWORK = /^(nfs4?|cifs|smb3|smbfs|ceph|glusterfs|fuse\.sshfs|fuse\.s3fs|9p|afs|lustre|beegfs)$/;

export function isNetworkFs(fsType: string): boolean {
  return NETWORK.test(fsType);
}

export interface MarkedPath {
  /** "site", "backups", "secondary backups". */
  label: string;
  path: string;
}

export interface SelectedFilesystem {
  mount: MountEntry;
  marks: string[];
}

/** The nearest existing ancestor, resolved through symbolic links (a backup folder may not exist yet). */
export function resolveExisting(p: string): string {
  let dir = path.resolve(p);
  for (;;) {
    try {
      return realpathSync(dir);
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return dir;
      dir = parent;
    }
  }
}

/** The mount a path lives on: the last-mounted entry whose mount point is the longest prefix. */
export function mountOf(mounts: MountEntry[], resolvedPath: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const inside =
      mp === '/' || resolvedPath === mp || resolvedPath.startsWith(mp.endsWith('/') ? mp : `${mp}/`);
    if (inside && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/**
 * Every real filesystem once (bind mounts of one device collapse to the mount of its root, else the
 * shortest mount point), plus whatever filesystem holds a marked path, marked.
 */
export function selectFilesystems(mounts: MountEntry[], marked: { label: string; resolved: string }[]) {
  const marksByDevice = new Map<string, { mount: MountEntry; labels: string[] }>();
  for (const m of marked) {
    const mount = mountOf(mounts, m.resolved);
    if (!mount) continue;
    const entry = marksByDevice.get(mount.device) ?? { mount, labels: [] };
    if (!entry.labels.includes(m.label)) entry.labels.push(m.label);
    marksByDevice.set(mount.device, entry);
  }
  const byDevice = new Map<string, MountEntry>();
  for (const m of mounts) {
    const real = !PSEUDO.has(m.fsType) || marksByDevice.has(m.device);
    if (!real) continue;
    const seen = byDevice.get(m.device);
    const better =
      !seen ||
      (m.root === '/' && seen.root !== '/') ||
      (m.root === seen.root && m.mountPoint.length < seen.mountPoint.length);
    if (better) byDevice.set(m.device, m);
  }
  const out: SelectedFilesystem[] = [];
  for (const [device, mount] of byDevice) out.push({ mount, marks: marksByDevice.get(device)?.labels ?? [] });
  out.sort((a, b) => a.mount.mountPoint.localeCompare(b.mount.mountPoint));
  return out;
}

export interface FilesystemUsage {
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
  /** As df: used / (used + available to unprivileged users). */
  usedPercent: number;
  inodesTotal: number;
  inodesUsedPercent: number | null;
}

export type StatfsFn = (p: string) => {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
};

export const defaultStatfs: StatfsFn = (p) => statfsSync(p);

/** Bytes an unprivileged user may still write on the filesystem holding `dir`; null when statfs fails. */
export function freeSpaceOf(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

export function filesystemUsage(stat: ReturnType<StatfsFn>): FilesystemUsage {
  const total = stat.blocks * stat.bsize;
  const used = (stat.blocks - stat.bfree) * stat.bsize;
  const avail = stat.bavail * stat.bsize;
  const denominator = used + avail;
  return {
    totalBytes: total,
    usedBytes: used,
    availableBytes: avail,
    usedPercent: denominator > 0 ? (used * 100) / denominator : 0,
    inodesTotal: stat.files,
    inodesUsedPercent: stat.files > 0 ? ((stat.files - stat.ffree) * 100) / stat.files : null,
  };
}
