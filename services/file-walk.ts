// Every regular file under a folder, for the size and age questions of the health checks and the
// maintenance tasks: links are not followed, folders deeper than 8 levels are left out, and a
// folder or file that cannot be read is passed over.
import { type Dirent, readdirSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';

const MAX_DEPTH = 8;

export function forEachFile(dir: string, visit: (file: string, st: Stats) => void): void {
  const walk = (d: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && depth < MAX_DEPTH) walk(p, depth + 1);
      else if (e.isFile()) {
        let st: Stats;
        try {
          st = statSync(p);
        } catch {
          continue;
        }
        visit(p, st);
      }
    }
  };
  walk(dir, 0);
}
