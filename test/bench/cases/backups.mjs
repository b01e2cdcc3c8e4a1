// Backups against the standard tools, on a generated site of about 500 MB of model files and a
// 100,000-model database (built in a temp folder, never committed):
// - full backup (`cadence-ops backup create --type full`, verification included, as a user runs it)
//   vs GNU `tar czf` over the same files; also without verification, for the record;
// - database backup while a writer commits 1,000 transactions/s vs `sqlite3 DB "VACUUM INTO"` + `gzip -6`;
// - full verification (`backup verify`) vs `gzip -t` + `sha256sum` over the same files.
// Ours and theirs alternate; medians of BENCH_BACKUP_RUNS runs (default 3).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

const MODEL_BYTES = Number(process.env.BENCH_BACKUP_MODEL_MB ?? 500) * 1024 * 1024;
const MODELS = Number(process.env.BENCH_BACKUP_MODELS ?? 100_000);
const RUNS = Number(process.env.BENCH_BACKUP_RUNS ?? 3);

/** Bundles the TypeScript site builders so this plain script can call them (inside the project, so
 * the external packages resolve from its node_modules). */
async function loadBuilders(h) {
  const dir = path.join(h.root, '.tmp');
  mkdirSync(dir, { recursive: true });
  const entry = path.join(dir, 'bench-backups-builders.ts');
  writeFileSync(
    entry,
    `export { buildSite } from ${JSON.stringify(path.join(h.root, 'services/demo-site.ts'))};
     export * from ${JSON.stringify(path.join(h.root, 'services/demo-models.ts'))};`,
  );
  const outfile = path.join(dir, 'bench-backups-builders.mjs');
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    packages: 'external',
    logLevel: 'warning',
  });
  return import(outfile);
}

async function generateSite(root, b) {
  const t0 = Date.now();
  await b.buildSite(root, {
    models: MODELS,
    modelFiles: 'demo',
    thumbnails: 5000,
    logHistoryHours: 72,
    backups: false,
  });
  // Model files in the mix a library holds: mostly binary STL, some ASCII STL, OBJ, 3MF, STEP.
  const lib = path.join(root, 'data/models/library');
  mkdirSync(lib, { recursive: true });
  let total = 0;
  let i = 0;
  while (total < MODEL_BYTES) {
    const rings = 96 + ((i * 37) % 320);
    const sides = 48 + ((i * 17) % 160);
    const mesh = b.torusMesh(rings, sides, 30 + (i % 23), 6 + (i % 7));
    const pick = i % 20;
    let name;
    let data;
    if (pick < 11) [name, data] = [`part_${i}.stl`, b.binaryStl(mesh)];
    else if (pick < 15) [name, data] = [`part_${i}_ascii.stl`, b.asciiStl(mesh, `part_${i}`)];
    else if (pick < 17) [name, data] = [`part_${i}.obj`, b.objFile(mesh, `part_${i}`)];
    else if (pick < 19) [name, data] = [`part_${i}.3mf`, b.threeMf(mesh, 1)];
    else [name, data] = [`part_${i}.step`, b.stepFile(mesh, `part_${i}`)];
    writeFileSync(path.join(lib, name), data);
    total += data.length;
    i++;
  }
  process.stderr.write(
    `  site: ${MODELS} models, ${(total / 1048576).toFixed(0)} MB in ${i} generated model files, built in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
  );
}

function du(dir) {
  let total = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

/** Runs `cmd` under /usr/bin/time when present: wall ms and peak RSS in MB. */
async function timed(h, cmd, args, opts = {}) {
  const useTime = h.has('/usr/bin/time');
  const r = useTime
    ? await h.runCommand('/usr/bin/time', ['-f', '__RSS_KB=%M', cmd, ...args], opts)
    : await h.runCommand(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-500)}`);
  const m = /__RSS_KB=(\d+)/.exec(r.stderr);
  return { ms: r.ms, rssMb: m ? Number(m[1]) / 1024 : null, stdout: r.stdout };
}

function startWriter(h, db, rate) {
  return new Promise((resolve, reject) => {
    const child = spawn(h.node, [path.join(h.root, 'test/helpers/seq-writer.mjs'), db, String(rate)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) resolve({ child, output: () => out });
    });
    child.on('error', reject);
  });
}

function stopWriter(w) {
  return new Promise((resolve) => {
    w.child.on('exit', () => {
      const line = w
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      resolve(line ? JSON.parse(line) : null);
    });
    w.child.kill('SIGTERM');
  });
}

// Not imported from run.mjs: that module awaits this one at its top level.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  name: 'backups',
  description:
    'full backup vs tar czf, database backup under a writer vs VACUUM INTO + gzip -6, verify vs gzip -t + sha256sum',
  async run(h) {
    for (const tool of ['tar', 'gzip', 'sqlite3', 'sha256sum'])
      if (!h.has(tool)) throw new Error(`${tool} is needed`);
    const dir = h.tmpDir();
    const b = await loadBuilders(h);
    const root = path.join(dir, 'site');
    await generateSite(root, b);
    const siteBytes = du(root);
    const env = { ...process.env, CADENCE_OPS_STATE_DIR: path.join(dir, 'state'), NO_COLOR: '1' };
    const backups = path.join(root, 'backups');
    const scratch = path.join(dir, 'scratch');
    mkdirSync(scratch);
    const cli = (...args) => [h.cli, '--root', root, ...args];
    const clearBackups = () => {
      for (const f of readdirSync(backups)) rmSync(path.join(backups, f), { force: true });
    };
    // The same files as a full backup holds (tar reads the live database file; we take a snapshot).
    const treeArgs = [
      'config.json',
      'settings.json',
      '.env',
      'pyinstaller.spec',
      'requirements.txt',
      'data',
      'resources',
      'logs',
    ];
    process.stderr.write(`  tree: ${(siteBytes / 1048576).toFixed(0)} MB\n`);

    // 1. Full backup.
    const ours = [];
    const oursNoVerify = [];
    const theirs = [];
    let oursSize = 0;
    let theirsSize = 0;
    let oursRss = null;
    for (let i = 0; i < RUNS; i++) {
      clearBackups();
      await sleep(1100);
      const o = await timed(h, h.node, cli('backup', 'create', '--type', 'full'), { env });
      ours.push(o.ms);
      oursRss = Math.max(oursRss ?? 0, o.rssMb ?? 0);
      oursSize = statSync(
        path.join(
          backups,
          readdirSync(backups).find((f) => f.startsWith('full_backup_')),
        ),
      ).size;
      const tarOut = path.join(scratch, 'site.tar.gz');
      const t = await timed(h, 'tar', ['czf', tarOut, '-C', root, ...treeArgs]);
      theirs.push(t.ms);
      theirsSize = statSync(tarOut).size;
      rmSync(tarOut);
      clearBackups();
      await sleep(1100);
      const n = await timed(h, h.node, cli('backup', 'create', '--type', 'full', '--no-verify'), { env });
      oursNoVerify.push(n.ms);
      process.stderr.write(
        `  full run ${i + 1}: ours ${(o.ms / 1000).toFixed(1)} s (no verify ${(n.ms / 1000).toFixed(1)} s), tar czf ${(t.ms / 1000).toFixed(1)} s\n`,
      );
    }
    h.compare({
      label: 'full backup, verified (create --type full)',
      ours: median(ours),
      theirs: median(theirs),
      theirsName: 'tar czf',
      target: '<= 0.6x',
    });
    h.compare({
      label: 'full backup without verification',
      ours: median(oursNoVerify),
      theirs: median(theirs),
      theirsName: 'tar czf',
    });
    h.figure({ label: 'full backup size ours / tar czf', value: oursSize / theirsSize, unit: 'x' });
    if (oursRss) h.figure({ label: 'full backup peak RSS', value: oursRss, unit: 'MB' });

    // 2. Verification of that full backup vs gzip -t + sha256sum over the same files.
    clearBackups();
    await sleep(1100);
    await timed(h, h.node, cli('backup', 'create', '--type', 'full', '--no-verify'), { env });
    const fullName = readdirSync(backups).find((f) => f.startsWith('full_backup_'));
    const fullFile = path.join(backups, fullName);
    const files = (
      await h.runCommand('sh', ['-c', `cd '${root}' && find ${treeArgs.join(' ')} -type f`])
    ).stdout
      .trim()
      .split('\n');
    const listFile = path.join(scratch, 'files.txt');
    writeFileSync(listFile, `${files.join('\0')}\0`);
    const vOurs = [];
    const vTheirs = [];
    for (let i = 0; i < RUNS; i++) {
      const o = await timed(h, h.node, cli('backup', 'verify', fullName), { env });
      vOurs.push(o.ms);
      const g = await timed(h, 'gzip', ['-t', fullFile]);
      const s = await timed(h, 'sh', [
        '-c',
        `cd '${root}' && xargs -0 sha256sum < '${listFile}' > /dev/null`,
      ]);
      vTheirs.push(g.ms + s.ms);
      process.stderr.write(
        `  verify run ${i + 1}: ours ${(o.ms / 1000).toFixed(2)} s, gzip -t ${(g.ms / 1000).toFixed(2)} s + sha256sum ${(s.ms / 1000).toFixed(2)} s\n`,
      );
    }
    h.compare({
      label: 'verify full backup (backup verify)',
      ours: median(vOurs),
      theirs: median(vTheirs),
      theirsName: 'gzip -t + sha256sum',
      target: '<= 0.8x',
    });

    // 3. Restore of the full backup (scope all) vs GNU `tar xzf` of the same archive. Ours is the
    //    extraction into staging (every file hashed and checked against the manifest) plus the
    //    swap. The flush to disk (which tar does not do) overlaps the staged database's check;
    //    verification, the plan, the safety snapshot and the post-checks are reported apart.
    const rOurs = [];
    const rTotal = [];
    const rTheirs = [];
    const rStage = [];
    const rChecks = [];
    for (let i = 0; i < Math.max(1, RUNS - 1); i++) {
      for (const f of readdirSync(backups))
        if (f.startsWith('pre_restore_')) rmSync(path.join(backups, f), { force: true });
      const o = await timed(h, h.node, cli('restore', fullName, '--yes', '--json', '--no-start-app'), {
        env,
      });
      const outcome = JSON.parse(o.stdout);
      if (!outcome.ok) throw new Error(`restore failed: ${outcome.message}`);
      const t = outcome.timings;
      rOurs.push(t.extract + t.swap);
      rStage.push(t.stage);
      rTotal.push(o.ms);
      rChecks.push(o.ms - t.extract - t.swap);
      const out = path.join(scratch, 'x');
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      const x = await timed(h, 'tar', ['xzf', fullFile, '-C', out]);
      rTheirs.push(x.ms);
      rmSync(out, { recursive: true, force: true });
      process.stderr.write(
        `  restore run ${i + 1}: ours extract ${(t.extract / 1000).toFixed(1)} s + swap ${t.swap} ms (staging with the db check and the flush ${(t.stage / 1000).toFixed(1)} s; total with checks and safety snapshot ${(o.ms / 1000).toFixed(1)} s), tar xzf ${(x.ms / 1000).toFixed(1)} s\n`,
      );
    }
    h.compare({
      label: 'restore: extract + swap (restore --yes)',
      ours: median(rOurs),
      theirs: median(rTheirs),
      theirsName: 'tar xzf',
      target: '<= 1.2x',
    });
    h.figure({
      label: 'restore: staging in all (extract, db check, flush)',
      value: median(rStage),
      unit: 'ms',
    });
    h.figure({ label: 'restore: the checks and the safety snapshot', value: median(rChecks), unit: 'ms' });
    h.figure({ label: 'restore: total, end to end', value: median(rTotal), unit: 'ms' });

    // 4. Database backup while a writer commits 1,000 transactions/s.
    const db = path.join(root, 'data/candy_cadence.db');
    const writer = await startWriter(h, db, 1000);
    const dOurs = [];
    const dTheirs = [];
    try {
      await sleep(500);
      for (let i = 0; i < RUNS; i++) {
        clearBackups();
        await sleep(1100);
        const o = await timed(h, h.node, cli('backup', 'create', '--type', 'database'), { env });
        dOurs.push(o.ms);
        const snap = path.join(scratch, 'x.db');
        rmSync(snap, { force: true });
        rmSync(`${snap}.gz`, { force: true });
        const v = await timed(h, 'sqlite3', [db, `VACUUM INTO '${snap}'`]);
        const g = await timed(h, 'gzip', ['-6', snap]);
        dTheirs.push(v.ms + g.ms);
        rmSync(`${snap}.gz`, { force: true });
        process.stderr.write(
          `  database run ${i + 1}: ours ${(o.ms / 1000).toFixed(2)} s, VACUUM INTO ${(v.ms / 1000).toFixed(2)} s + gzip -6 ${(g.ms / 1000).toFixed(2)} s\n`,
        );
      }
    } finally {
      const stats = await stopWriter(writer);
      if (stats) h.figure({ label: 'writer during database backups', value: stats.rate, unit: 'tx/s' });
    }
    h.compare({
      label: 'database backup under a 1,000 tx/s writer',
      ours: median(dOurs),
      theirs: median(dTheirs),
      theirsName: 'VACUUM INTO + gzip -6',
      target: '<= 0.8x',
    });
    h.figure({ label: 'site size', value: siteBytes / 1048576, unit: 'MB' });
  },
};
