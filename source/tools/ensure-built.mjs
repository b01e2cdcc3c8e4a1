// `npm start` on a fresh clone: build once if the bundle is missing or older than the sources.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bundle = path.join(root, 'dist/cadence-ops.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

let builtAt = 0;
try {
  builtAt = statSync(bundle).mtimeMs;
} catch {}
const sourcesAt = Math.max(...['source', 'screens', 'services'].map((d) => newestSource(path.join(root, d))));
if (builtAt < sourcesAt)
  execFileSync(process.execPath, [path.join(root, 'source/tools/build.mjs')], { stdio: 'inherit' });
