// A log writer in its own process, for the tail tests: appends numbered records (some with
// tracebacks) to a file and rotates it in one of the schemes of SITE.md while it writes.
//   node log-writer.mjs '{"file":"…","scheme":"rename","lines":3000,"rotateEvery":700,"perTick":5}'
// schemes: rename (RotatingFileHandler), maintenance (rename to _STAMP.log, keep writing to the
// old descriptor a little, reopen, gzip, delete the plain copy), copytruncate (copy to
// <base>.YYYYmmdd.log.gz, truncate in place), recreate (delete, create anew).
import {
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const o = JSON.parse(process.argv[2]);
const { file, scheme, lines, rotateEvery = 500, perTick = 5, tracebackEvery = 0 } = o;
const dir = path.dirname(file);
const base = path.basename(file, '.log');
let fd = openSync(file, 'a');
let rotations = 0;
const t0 = new Date(2026, 10, 23, 8, 0, 0).getTime();
const ts = (n) => {
  const d = new Date(t0 + n * 10);
  const p = (x, w = 2) => String(x).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
};
const record = (n) => {
  if (tracebackEvery && n % tracebackEvery === 0) {
    return `${ts(n)} - writer - ERROR - line ${n} failed\nTraceback (most recent call last):\n  File "w.py", line ${n}, in run\nValueError: bad ${n}\n`;
  }
  return `${ts(n)} - writer - INFO - line ${n}\n`;
};

function rotate(n) {
  rotations++;
  if (scheme === 'rename') {
    closeSync(fd);
    for (let i = 3; i >= 1; i--)
      if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    renameSync(file, `${file}.1`);
    fd = openSync(file, 'a');
  } else if (scheme === 'maintenance') {
    const renamed = path.join(dir, `${base}_20261123_0800${String(rotations).padStart(2, '0')}.log`);
    renameSync(file, renamed);
    // The application has not reopened yet: a few more records land in the renamed file.
    for (let k = 0; k < 3 && n < lines; k++) writeSync(fd, record(++n));
    closeSync(fd);
    fd = openSync(file, 'a');
    writeFileSync(`${renamed}.gz`, gzipSync(readFileSync(renamed)));
    unlinkSync(renamed);
  } else if (scheme === 'copytruncate') {
    writeFileSync(
      path.join(dir, `${base}.202611${String(20 + rotations).padStart(2, '0')}.log.gz`),
      gzipSync(readFileSync(file)),
    );
    ftruncateSync(fd, 0);
  } else if (scheme === 'recreate') {
    closeSync(fd);
    unlinkSync(file);
    fd = openSync(file, 'a');
  }
  return n;
}

let n = 0;
const tick = () => {
  for (let k = 0; k < perTick && n < lines; k++) {
    n++;
    writeSync(fd, record(n));
    if (n % rotateEvery === 0 && n < lines) n = rotate(n);
  }
  if (n < lines) setTimeout(tick, 1);
  else {
    closeSync(fd);
    process.stdout.write(JSON.stringify({ written: n, rotations }));
  }
};
tick();
