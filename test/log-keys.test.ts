// The byte-level masked key of `logs analyze` (byteKeyHash) against the string path it replaces
// (fastKey + errorCodeOf + the exception check), and tokenize()'s checks that skip an expression
// against the plain chain of expressions: the same answers on the generator's records, on
// hand-written edge cases and on random strings built from the characters the masks look at.
import { describe, expect, it } from 'vitest';
import { randomRecord, rng } from '../services/demo-log-lines.js';
import { byteKeyHash, fastKey, hash53, keyScan, maskSpans, WILDCARD } from '../services/log-clusters.js';
import { errorCodeOf } from '../services/log-parse.js';

const EDGE = [
  '',
  '   ',
  'PAR001 Invalid file header: data/models/a.stl',
  '(PAR001) [DB002]: ERR005, PERF003. xERR001 ERR0012 ERR12',
  'ERR123 without a zero anywhere',
  'code=ERR001 path/ERR002/x key:value uid=0 euid=12 tty=ssh load_time:1.25 =5 :7 a=b=3',
  'id 123e4567-e89b-12d3-a456-426614174000 and x-123e4567-e89b-12d3-a456-426614174000',
  'almost-uuid 123e4567-e89b-12d3-a456-42661417400 deadbeefdeadbeef DEADBEEFCAFEBABE1 abcdefabcdefabcd',
  'SELECT * FROM models LIMIT 20... Execution time: 1200ms',
  'Selected WITHIN selects DROPped ALTERS REPLACE',
  'Search query "gear lamp" returned 12 results',
  "it's don't 'x'",
  'MemoryError: boom, ValueException and Errors and EError Exceptional',
  'tab\tseparated\r\nwords / \\ // a/b',
  'ünïcode ERR001 words',
  '<*> literal <*>x',
  'x'.repeat(300),
];

function check(message: string) {
  const b = Buffer.from(message);
  const h = byteKeyHash(b, 0, b.length);
  const key = fastKey(message);
  if (h === 0) {
    // Only a message that is not all ASCII is left to the string path.
    expect(/^[\x00-\x7f]*$/.test(message)).toBe(false);
    return;
  }
  if (h === -1) {
    expect(key).toBeNull();
    return;
  }
  expect(key).not.toBeNull();
  expect(h).toBe(hash53(key!));
  expect(keyScan.code).toBe(errorCodeOf(message));
  expect(keyScan.mentions).toBe(message.includes('Error') || message.includes('Exception'));
}

// The chain maskSpans() ran before it skipped expressions that cannot match (kept here as the spec).
const SQL_TO_ELLIPSIS =
  /\b(?:SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE|PRAGMA|CREATE|DROP|ALTER)\b[\s\S]*?\.\.\.(?=\s|$)/g;
const SQL_SHORT =
  /\b(?:INSERT (?:OR \w+ )?INTO|DELETE FROM|REPLACE INTO|UPDATE|SELECT [\w*, ().]+? FROM) (?!(?:on|in|of|to|for|at|by|from|with|the|a|an|and|or)\b)[A-Za-z_][\w.]*/g;
const SQL_LABELLED =
  /\b(statement|query|sql|execute|stmt)(:\s+)(?:SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE|PRAGMA|CREATE|DROP|ALTER)\b.*$/gi;
const SQL_HINT = /\b(?:SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE|PRAGMA|CREATE|DROP|ALTER)\b/;
const QUOTED = /(^|[\s(=:[,{])(?:"[^"]{0,400}"|'[^'\s][^']{0,400}'|'')(?=$|[\s),:;\]}.!?])/g;
function preMasked(message: string): string {
  let text = message;
  if (text.indexOf('"') >= 0 || text.indexOf("'") >= 0) text = text.replace(QUOTED, `$1${WILDCARD}`);
  if (SQL_HINT.test(text))
    text = text
      .replace(SQL_LABELLED, `$1$2${WILDCARD}`)
      .replace(SQL_TO_ELLIPSIS, WILDCARD)
      .replace(SQL_SHORT, WILDCARD);
  return text;
}
const PARTS = [
  ' ',
  '\t',
  '\u00a0',
  '"',
  "'",
  '(',
  '=',
  ':',
  '[',
  ',',
  '{',
  ')',
  ';',
  ']',
  '}',
  '.',
  '!',
  '?',
  '...',
  'SELECT',
  'INSERT',
  'INTO',
  'UPDATE',
  'DELETE FROM',
  'REPLACE INTO',
  'WITH',
  'ALTER',
  'x',
  'FROM',
  'from',
  'models',
  'query:',
  'Statement:',
  'sql: ',
  'PAR001',
  'ERR005',
  '0',
  '12',
  'a/b',
  'key=',
  'Error',
  'Exception',
  'E',
  '-',
  '123e4567-e89b-12d3-a456-426614174000',
  'é',
  '_',
  'on',
];

describe('byte-level masked keys', () => {
  it('equal hash53(fastKey(message)), with the same error code and exception check, on generated records', () => {
    const r = rng(7);
    for (let i = 0; i < 20_000; i++) check(randomRecord(r, i * 1000).message);
  });

  it('agree on edge cases: codes, key=value, UUIDs, hex, SQL verbs, quotes, tabs, non-ASCII', () => {
    for (const m of EDGE) check(m);
    const b = Buffer.from('PAR001 Invalid file header: data/models/a.stl');
    const h = byteKeyHash(b, 0, b.length);
    expect(h).toBe(hash53('PAR001 Invalid file header: <*>'));
    expect(keyScan.code).toBe('PAR001');
    // A range inside a larger buffer reads only its bytes.
    const big = Buffer.from(`xx ERR001 "${'PAR001 Invalid file header: data/models/a.stl'}" yy`);
    const at = big.indexOf('PAR001');
    expect(byteKeyHash(big, at, at + b.length)).toBe(h);
  });

  it('agree on random strings made of what the masks look at', () => {
    const r = rng(3);
    for (let i = 0; i < 20_000; i++) {
      let m = '';
      const n = Math.floor(r() * 14);
      for (let j = 0; j < n; j++) m += PARTS[Math.floor(r() * PARTS.length)];
      check(m);
    }
  });
});

describe('maskSpans() (tokenize) skips only expressions that cannot match', () => {
  it('gives what the full chain of expressions gives', () => {
    const r = rng(5);
    const messages: string[] = [...EDGE];
    for (let i = 0; i < 5_000; i++) messages.push(randomRecord(r, 0).message);
    for (let i = 0; i < 20_000; i++) {
      let m = '';
      const n = Math.floor(r() * 14);
      for (let j = 0; j < n; j++) m += PARTS[Math.floor(r() * PARTS.length)];
      messages.push(m);
    }
    for (const m of messages) expect(maskSpans(m), m).toBe(preMasked(m));
  });
});
