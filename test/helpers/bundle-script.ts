// Builds a small TypeScript script (importing services/) into one ESM file under .tmp/ so a test can
// run it as a real, separate Node process (concurrent writers, crash cases). Native modules stay
// external and resolve from the project's node_modules, hence the location inside the repository.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `source` is TypeScript whose imports are relative to the repository root (e.g. './services/alerts.ts'). */
export async function bundleScript(name: string, source: string): Promise<string> {
  const outDir = path.join(root, '.tmp', 'test-scripts');
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, `${name}-${process.pid}-${Date.now()}.mjs`);
  await esbuild.build({
    stdin: { contents: source, resolveDir: root, loader: 'ts', sourcefile: `${name}.ts` },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    external: ['better-sqlite3', 'systeminformation'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return outfile;
}
