// Static facts about the host for the resources screen: distribution (/etc/os-release), kernel and
// architecture (node:os), CPU model and physical cores (/proc/cpuinfo). Read once, synchronously,
// in well under a millisecond. systeminformation could give the same (osInfo(), cpu()), but its
// osInfo() runs `hostname -f` and `date` through execSync, and running it in a worker thread costs
// ~300 ms of CPU to load the bundle: files are the better source here.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface HostFacts {
  hostname: string;
  /** "Debian GNU/Linux 12 (bookworm)", or the kernel's name when /etc/os-release is missing. */
  os: string;
  kernel: string;
  arch: string;
  cpuModel: string | null;
  logicalCores: number;
  physicalCores: number | null;
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** PRETTY_NAME of os-release(5), else NAME VERSION. */
export function parseOsRelease(text: string): string | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!, m[2]!.replace(/^["']|["']$/g, ''));
  }
  return (
    fields.get('PRETTY_NAME') || [fields.get('NAME'), fields.get('VERSION')].filter(Boolean).join(' ') || null
  );
}

/** Model name and physical cores (distinct physical id + core id pairs) from /proc/cpuinfo. */
export function parseCpuinfo(text: string): { model: string | null; physicalCores: number | null } {
  let model: string | null = null;
  const cores = new Set<string>();
  let physical = '0';
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'model name' && !model) model = value.replace(/\s+/g, ' ');
    else if (key === 'physical id') physical = value;
    else if (key === 'core id') cores.add(`${physical}:${value}`);
  }
  return { model, physicalCores: cores.size || null };
}

let cached: HostFacts | null = null;

export function hostFacts(etc = '/etc', procRoot = '/proc'): HostFacts {
  if (cached && etc === '/etc' && procRoot === '/proc') return cached;
  const cpu = parseCpuinfo(read(`${procRoot}/cpuinfo`) ?? '');
  const facts: HostFacts = {
    hostname: os.hostname(),
    os: parseOsRelease(read(`${etc}/os-release`) ?? read('/usr/lib/os-release') ?? '') ?? os.type(),
    kernel: os.release(),
    arch: os.arch(),
    cpuModel: cpu.model ?? (os.cpus()[0]?.model?.trim() || null),
    logicalCores: os.cpus().length,
    physicalCores: cpu.physicalCores,
  };
  if (etc === '/etc' && procRoot === '/proc') cached = facts;
  return facts;
}

/** "vm · Debian GNU/Linux 12 (bookworm) · kernel 6.18.44 x64 · AMD EPYC 7B13 · 2 cores". */
export function formatHostFacts(f: HostFacts): string {
  const cores =
    f.physicalCores && f.physicalCores !== f.logicalCores
      ? `${f.physicalCores} cores / ${f.logicalCores} threads`
      : `${f.logicalCores} cores`;
  return [f.hostname, f.os, `kernel ${f.kernel} ${f.arch}`, f.cpuModel, cores].filter(Boolean).join(' · ');
}
