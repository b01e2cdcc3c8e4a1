// A writable copy of a captured /proc snapshot (fixtures/proc/*) to point a Sampler at, and a way to
// move it to the next snapshot in place (the sampler keeps its descriptors open, as on real /proc).
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/proc');

export function fixture(...parts: string[]): string {
  return readFileSync(path.join(FIXTURES, ...parts), 'latin1');
}

export function copyProcRoot(snapshot: string, dest: string): string {
  cpSync(path.join(FIXTURES, snapshot), dest, { recursive: true });
  return dest;
}

/** Overwrites every file of `dest` that exists in the snapshot, keeping inodes (and open descriptors) valid. */
export function advanceProcRoot(snapshot: string, dest: string): void {
  const walk = (rel: string) => {
    const from = path.join(FIXTURES, snapshot, rel);
    for (const name of readdirSync(from)) {
      const child = path.join(rel, name);
      if (statSync(path.join(from, name)).isDirectory()) {
        mkdirSync(path.join(dest, child), { recursive: true });
        walk(child);
      } else writeFileSync(path.join(dest, child), readFileSync(path.join(from, name)));
    }
  };
  walk('');
}

/** Writes (in place) one file of a proc root. */
export function writeProc(root: string, rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
}

/** Makes a process of a hand-made /proc work on a site (its cwd inside the root), as belongsToSite reads it. */
export function bindToSite(procRoot: string, pid: number | string, siteRoot: string): void {
  mkdirSync(path.join(procRoot, String(pid)), { recursive: true });
  symlinkSync(siteRoot, path.join(procRoot, String(pid), 'cwd'));
}
