// A stand-in for the application's writes, for the backup consistency test and the benchmark:
// commits numbered transactions to a site database in WAL mode at a steady rate until SIGTERM.
// Transaction n inserts writer_seq(n), sets writer_state.last = n and touches a models row, so a
// backup holds exactly a committed prefix 1..k with last = k, or it is torn.
//   node seq-writer.mjs DB RATE      prints "ready" once writing, then on SIGTERM one JSON line:
//                                    {"commits": N, "seconds": S, "rate": R, "busy": B}
import Database from 'better-sqlite3';

const [file, rateArg] = process.argv.slice(2);
const rate = Number(rateArg ?? 1000);
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.exec(`CREATE TABLE IF NOT EXISTS writer_seq (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS writer_state (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
         INSERT OR IGNORE INTO writer_state (id, last) VALUES (1, 0);`);
const maxModel = db.prepare('SELECT max(id) AS m FROM models').get()?.m ?? 0;
let n = db.prepare('SELECT last FROM writer_state WHERE id = 1').get().last;
const insert = db.prepare('INSERT INTO writer_seq (seq, at) VALUES (?, ?)');
const state = db.prepare('UPDATE writer_state SET last = ? WHERE id = 1');
const touch = db.prepare('UPDATE models SET load_time_ms = ? WHERE id = ?');
const tx = db.transaction((seq) => {
  insert.run(seq, Date.now());
  state.run(seq);
  if (maxModel > 0) touch.run(seq, 1 + (seq % maxModel));
});

const started = performance.now();
const first = n;
let busy = 0;
let stopping = false;
process.on('SIGTERM', () => (stopping = true));
process.on('SIGINT', () => (stopping = true));
process.stdout.write('ready\n');

function loop() {
  if (stopping) {
    const seconds = (performance.now() - started) / 1000;
    const commits = n - first;
    db.close();
    process.stdout.write(`${JSON.stringify({ commits, seconds, rate: commits / seconds, busy, last: n })}\n`);
    process.exit(0);
  }
  const target = first + Math.floor(((performance.now() - started) / 1000) * rate);
  let budget = 50;
  while (n < target && budget-- > 0) {
    try {
      tx(n + 1);
      n++;
    } catch (err) {
      if (err.code === 'SQLITE_BUSY') {
        busy++;
        break;
      }
      throw err;
    }
  }
  // Sleep until the next transaction is due (the catch-up above keeps the rate): an application
  // committing 1,000 transactions a second uses a few per cent of a core, and so must this stand-in.
  // (It used to re-arm with setImmediate, a busy loop that kept ~70 % of a core spinning and took
  // that core away from whatever was measured beside it.)
  setTimeout(loop, 1);
}
loop();
