// SQL text as the slow-query log gives it: tokenised, normalised into a pattern (literals become
// placeholders) and, when the application cut it at 100 characters, repaired into a statement
// SQLite can plan: a cut word is completed from the schema or dropped, a dangling clause is
// dropped or completed, a join condition is completed from the foreign key, brackets are closed.
// Every change is listed, so a plan of a repaired statement is always labelled as such.

export type TokenType =
  | 'ws'
  | 'comment'
  | 'string'
  | 'number'
  | 'blob'
  | 'ident'
  | 'qident'
  | 'param'
  | 'op'
  | 'punct';

export interface Token {
  type: TokenType;
  text: string;
  /** A string, quoted identifier or comment that the text ended inside. */
  unterminated?: boolean;
}

const OPS = ['->>', '||', '<=', '>=', '<>', '!=', '==', '<<', '>>', '->'];

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  const isIdentStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c);
  const isIdent = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
  while (i < n) {
    const c = sql[i]!;
    const start = i;
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i]!)) i++;
      out.push({ type: 'ws', text: sql.slice(start, i) });
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      out.push({ type: 'comment', text: sql.slice(start, i) });
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      out.push({ type: 'comment', text: sql.slice(start, i), unterminated: end < 0 });
    } else if ((c === 'x' || c === 'X') && sql[i + 1] === "'") {
      const end = sql.indexOf("'", i + 2);
      i = end < 0 ? n : end + 1;
      out.push({ type: 'blob', text: sql.slice(start, i), unterminated: end < 0 });
    } else if (c === "'") {
      i++;
      let closed = false;
      while (i < n) {
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") i += 2;
          else {
            i++;
            closed = true;
            break;
          }
        } else i++;
      }
      out.push({ type: 'string', text: sql.slice(start, i), unterminated: !closed });
    } else if (c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      i++;
      let closed = false;
      while (i < n) {
        if (sql[i] === close) {
          if (close !== ']' && sql[i + 1] === close) i += 2;
          else {
            i++;
            closed = true;
            break;
          }
        } else i++;
      }
      out.push({ type: 'qident', text: sql.slice(start, i), unterminated: !closed });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      if (c === '0' && /[xX]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < n && /[0-9A-Fa-f]/.test(sql[i]!)) i++;
      } else {
        while (i < n && /[0-9_]/.test(sql[i]!)) i++;
        if (sql[i] === '.') {
          i++;
          while (i < n && /[0-9]/.test(sql[i]!)) i++;
        }
        if (/[eE]/.test(sql[i] ?? '') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
          i += 2;
          while (i < n && /[0-9]/.test(sql[i]!)) i++;
        }
      }
      out.push({ type: 'number', text: sql.slice(start, i) });
    } else if (isIdentStart(c)) {
      while (i < n && isIdent(sql[i]!)) i++;
      out.push({ type: 'ident', text: sql.slice(start, i) });
    } else if (c === '?' || ((c === ':' || c === '@' || c === '$') && isIdentStart(sql[i + 1] ?? ''))) {
      i++;
      while (i < n && isIdent(sql[i]!)) i++;
      out.push({ type: 'param', text: sql.slice(start, i) });
    } else {
      const op = OPS.find((o) => sql.startsWith(o, i));
      if (op) {
        i += op.length;
        out.push({ type: 'op', text: op });
      } else {
        i++;
        out.push({ type: /[(),;.]/.test(c) ? 'punct' : 'op', text: c });
      }
    }
  }
  return out;
}

export const KEYWORDS = new Set(
  `ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST
CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE
DEFAULT DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN
FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED
INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT
NOTHING NOTNULL NULL NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE
RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS SAVEPOINT
SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW
VIRTUAL WHEN WHERE WINDOW WITH WITHOUT`.split(/\s+/),
);

const isKeyword = (t: Token | undefined, ...words: string[]) =>
  t?.type === 'ident' &&
  (words.length ? words.includes(t.text.toUpperCase()) : KEYWORDS.has(t.text.toUpperCase()));

const LITERAL: TokenType[] = ['string', 'number', 'blob'];

/** Words whose case is normalised in patterns (not KEY, ACTION and the like, which are often column names). */
const SHAPE_WORDS = new Set(
  `SELECT FROM WHERE AND OR NOT NULL IS IN LIKE GLOB BETWEEN ORDER GROUP BY HAVING LIMIT OFFSET JOIN LEFT INNER CROSS
OUTER NATURAL ON USING AS ASC DESC DISTINCT UNION ALL EXCEPT INTERSECT CASE WHEN THEN ELSE END EXISTS INSERT INTO VALUES
UPDATE SET DELETE WITH RECURSIVE REPLACE COLLATE ESCAPE MATCH`.split(/\s+/),
);

/** The statement's shape: literals as ?, keywords upper-case, whitespace and comments collapsed, IN lists as (?). */
export function normalizeTokens(tokens: Token[]): string {
  const sig = tokens.filter((t) => t.type !== 'ws' && t.type !== 'comment');
  const parts: string[] = [];
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i]!;
    if (LITERAL.includes(t.type) || t.type === 'param') {
      // A sign directly before a number is part of the literal when an operator or ( precedes it.
      const prev = parts.at(-1);
      const beforePrev = parts.at(-2);
      if ((prev === '-' || prev === '+') && (!beforePrev || /^[(,=<>!]|^[A-Z]+$/.test(beforePrev)))
        parts.pop();
      parts.push('?');
    } else if (t.type === 'ident')
      parts.push(SHAPE_WORDS.has(t.text.toUpperCase()) ? t.text.toUpperCase() : t.text);
    else parts.push(t.text);
  }
  let text = '';
  for (const p of parts) {
    if (!text) text = p;
    else if (p === ',' || p === ')' || p === '.' || text.endsWith('(') || text.endsWith('.')) text += p;
    else if (
      p === '(' &&
      /[A-Za-z0-9_"]$/.test(text) &&
      !/\b(IN|VALUES|AND|OR|ON|NOT|EXISTS|AS|USING|WHERE)$/.test(text)
    )
      text += p;
    else text += ` ${p}`;
  }
  // IN (?, ?, ?) and VALUES (?, ?), (?, ?) lists of any length are one pattern.
  return text.replace(/\(\?(?:, \?)+\)/g, '(?+)').replace(/(\(\?\+?\))(?:, \1)+/g, '$1, ...');
}

export function normalizeSql(sql: string): string {
  return normalizeTokens(tokenize(sql));
}

export function render(tokens: Token[]): string {
  return tokens.map((t) => t.text).join('');
}

/** What the repair may use from the database: its tables, their columns and foreign keys. */
export interface SchemaInfo {
  tables: Map<string, { columns: string[]; foreignKeys: Array<{ from: string; table: string; to: string }> }>;
}

export interface Repair {
  /** The statement SQLite can plan (literals kept). */
  sql: string;
  /** What was changed, in words. */
  notes: string[];
  changed: boolean;
}

/** Table references of the statement: alias (or name) -> table. */
export function tableAliases(tokens: Token[], schema: SchemaInfo): Map<string, string> {
  const sig = tokens.filter((t) => t.type !== 'ws' && t.type !== 'comment');
  const aliases = new Map<string, string>();
  const tableName = (t: Token) => (t.type === 'qident' ? t.text.slice(1, -1) : t.text);
  const findTable = (name: string) =>
    [...schema.tables.keys()].find((k) => k.toLowerCase() === name.toLowerCase());
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i]!;
    const startsList = isKeyword(t, 'FROM', 'JOIN', 'UPDATE', 'INTO');
    if (!startsList) continue;
    let j = i + 1;
    for (;;) {
      const name = sig[j];
      if (!name || (name.type !== 'ident' && name.type !== 'qident') || isKeyword(name, 'SELECT')) break;
      const table = findTable(tableName(name));
      if (!table) break;
      aliases.set(table, table);
      let k = j + 1;
      if (isKeyword(sig[k], 'AS')) k++;
      const alias = sig[k];
      if (
        alias &&
        (alias.type === 'ident' || alias.type === 'qident') &&
        !KEYWORDS.has(alias.text.toUpperCase())
      ) {
        aliases.set(tableName(alias), table);
        k++;
      }
      // A comma-separated FROM list continues.
      if (isKeyword(t, 'FROM') && sig[k]?.text === ',') {
        j = k + 1;
        continue;
      }
      break;
    }
  }
  return aliases;
}

const DANGLING_DROP = [
  'WHERE',
  'AND',
  'OR',
  'ON',
  'HAVING',
  'BY',
  'ORDER',
  'GROUP',
  'LIMIT',
  'OFFSET',
  'AS',
  'JOIN',
  'LEFT',
  'INNER',
  'CROSS',
  'OUTER',
  'NATURAL',
  'ESCAPE',
  'COLLATE',
  'SET',
  'USING',
  'DISTINCT',
  'SELECT',
  'FROM',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
];
const COMPARISON = ['=', '==', '<', '>', '<=', '>=', '<>', '!=', '+', '-', '*', '/', '||', '%'];
const COMPARISON_WORDS = ['LIKE', 'GLOB', 'IS', 'IN', 'BETWEEN', 'NOT', 'MATCH', 'REGEXP'];

/**
 * Repairs a statement the log cut at `limit` characters. `truncated` says whether it was cut;
 * an uncut statement is returned unchanged.
 */
export function repairTruncated(sql: string, schema: SchemaInfo, truncated: boolean): Repair {
  if (!truncated) return { sql, notes: [], changed: false };
  const notes: string[] = [];
  const tokens = tokenize(sql);
  const aliases = tableAliases(tokens, schema);
  const columnsOf = (table: string) => schema.tables.get(table)?.columns ?? [];
  const allColumns = () => [...new Set([...aliases.values()].flatMap(columnsOf))];
  const trimWs = () => {
    while (tokens.length && (tokens.at(-1)!.type === 'ws' || tokens.at(-1)!.type === 'comment')) tokens.pop();
  };
  const lastSig = () => {
    trimWs();
    return tokens.at(-1);
  };
  const prevSig = (): Token | undefined => {
    for (let i = tokens.length - 2; i >= 0; i--)
      if (tokens[i]!.type !== 'ws' && tokens[i]!.type !== 'comment') return tokens[i];
    return undefined;
  };
  const endedInWord = tokens.at(-1)?.type === 'ident';

  // 1. The last token may be cut in the middle.
  const last = tokens.at(-1);
  if (last?.unterminated && (last.type === 'string' || last.type === 'qident' || last.type === 'blob')) {
    const close = last.type === 'qident' ? (last.text[0] === '[' ? ']' : last.text[0]!) : "'";
    if (last.type === 'blob' && (last.text.length - 2) % 2 === 1) last.text = last.text.slice(0, -1);
    last.text += close;
    last.unterminated = false;
    notes.push(`closed the ${last.type === 'qident' ? 'identifier' : 'literal'} cut at the end`);
  } else if (last?.unterminated && last.type === 'comment') {
    tokens.pop();
  } else if (endedInWord && last) {
    const word = last.text;
    const upper = word.toUpperCase();
    const before = prevSig();
    const qualifier = before?.text === '.' ? tokens[tokens.length - 3] : undefined;
    let candidates: string[];
    if (qualifier && (qualifier.type === 'ident' || qualifier.type === 'qident')) {
      const table = aliases.get(qualifier.type === 'qident' ? qualifier.text.slice(1, -1) : qualifier.text);
      candidates = table ? columnsOf(table) : [];
    } else {
      candidates = [...allColumns(), ...schema.tables.keys()];
    }
    const exact = candidates.some((c) => c.toLowerCase() === word.toLowerCase()) || KEYWORDS.has(upper);
    if (!exact) {
      const cols = [...new Set(candidates.filter((c) => c.toLowerCase().startsWith(word.toLowerCase())))];
      const kws = qualifier ? [] : [...KEYWORDS].filter((k) => k.startsWith(upper));
      if (cols.length === 1 && kws.length === 0) {
        notes.push(`completed the cut name "${word}" to ${cols[0]}`);
        last.text = cols[0]!;
      } else if (kws.length === 1 && cols.length === 0) {
        notes.push(`completed the cut keyword "${word}" to ${kws[0]}`);
        last.text = kws[0]!;
      } else {
        notes.push(`dropped the cut word "${word}"`);
        tokens.pop();
        if (qualifier) tokens.splice(tokens.length - 2, 2);
      }
    }
  }

  // 2. Whatever clause the cut left hanging.
  for (let guard = 0; guard < 50; guard++) {
    const t = lastSig();
    if (!t) break;
    const up = t.type === 'ident' ? t.text.toUpperCase() : t.text;
    // A trailing LIMIT/OFFSET is dropped so every cut of the same statement plans (and groups) alike.
    const p = prevSig();
    if ((t.type === 'number' || t.type === 'param') && isKeyword(p, 'LIMIT', 'OFFSET')) {
      // Kept: a LIMIT changes the plan (an index can then serve ORDER BY). Its digits may be cut.
      notes.push(`kept ${p!.text.toUpperCase()} ${t.text} as logged (its value may be cut short)`);
      break;
    }
    if (t.type === 'punct' && (t.text === ',' || t.text === '.')) {
      tokens.pop();
      continue;
    }
    if (t.type === 'punct' && t.text === '(') {
      tokens.pop();
      // A function name left without its arguments goes too: "COUNT(" -> "".
      const fn = lastSig();
      if (fn?.type === 'ident' && !KEYWORDS.has(fn.text.toUpperCase())) tokens.pop();
      notes.push('dropped an opening bracket cut at the end');
      continue;
    }
    if (
      (t.type === 'op' && COMPARISON.includes(t.text)) ||
      (t.type === 'ident' && COMPARISON_WORDS.includes(up))
    ) {
      // "file_size >" -> "file_size > 0": keeps the column's use, which is what the plan is about.
      const value =
        up === 'IN'
          ? '(NULL)'
          : up === 'BETWEEN'
            ? '0 AND 0'
            : up === 'IS' || up === 'NOT'
              ? 'NULL'
              : ['LIKE', 'GLOB', 'MATCH', 'REGEXP', '||'].includes(up)
                ? "''"
                : '0';
      tokens.push({ type: 'ws', text: ' ' }, { type: 'ident', text: value });
      notes.push(`completed "${t.text}" with a placeholder value`);
      break;
    }
    if (t.type === 'ident' && DANGLING_DROP.includes(up)) {
      tokens.pop();
      if (up === 'BY') {
        trimWs();
        if (isKeyword(tokens.at(-1), 'ORDER', 'GROUP', 'PARTITION')) tokens.pop();
      }
      notes.push(`dropped the dangling ${up === 'BY' ? 'ORDER/GROUP BY' : up}`);
      continue;
    }
    break;
  }

  // 3. A join condition cut after its first column: complete it from the foreign key.
  const sig = tokens.filter((t) => t.type !== 'ws' && t.type !== 'comment');
  const n = sig.length;
  if (n >= 4 && sig[n - 2]?.text === '.' && isKeyword(sig[n - 4], 'ON')) {
    const alias = sig[n - 3]!.text;
    const col = sig[n - 1]!.text;
    const table = aliases.get(alias);
    const fk = table ? schema.tables.get(table)?.foreignKeys.find((f) => f.from === col) : undefined;
    // An aliased table must be named by its alias: prefer an alias over the table's own name.
    const parents = fk
      ? [...aliases.entries()].filter(([a, t]) => t === fk.table && a !== alias).map(([a]) => a)
      : [];
    const parentAlias = parents.find((a) => a !== fk?.table) ?? parents[0];
    if (fk && parentAlias) {
      tokens.push(
        { type: 'ws', text: ' ' },
        { type: 'op', text: '=' },
        { type: 'ws', text: ' ' },
        { type: 'ident', text: `${parentAlias}.${fk.to}` },
      );
      notes.push(`completed the join condition from the foreign key ${table}.${col} -> ${fk.table}.${fk.to}`);
    }
  }

  // 4. Close what is open.
  let depth = 0;
  for (const t of tokens) if (t.type === 'punct') depth += t.text === '(' ? 1 : t.text === ')' ? -1 : 0;
  if (depth > 0) {
    tokens.push({ type: 'punct', text: ')'.repeat(depth) });
    notes.push(`closed ${depth} bracket${depth > 1 ? 's' : ''}`);
  }
  notes.push(
    'the text after the first 100 characters is unknown: clauses there (GROUP BY, ORDER BY, LIMIT) are not in the plan',
  );
  const out = render(tokens).trim();
  return { sql: out, notes, changed: out !== sql };
}

/** The grouping key of a cut statement: its shape without a trailing LIMIT/OFFSET, which the cut may or may not have reached. */
export function truncatedPatternKey(repairedSql: string): string {
  return normalizeSql(repairedSql).replace(/ LIMIT \?( OFFSET \?)?$/, '');
}

/** Drops the last clause (from its keyword on): the fallback when a repaired statement still does not prepare. */
export function dropLastClause(sql: string): string | null {
  const tokens = tokenize(sql);
  let depth = 0;
  let cut = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'punct') depth += t.text === '(' ? 1 : t.text === ')' ? -1 : 0;
    if (
      depth === 0 &&
      isKeyword(
        t,
        'WHERE',
        'ORDER',
        'GROUP',
        'HAVING',
        'LIMIT',
        'JOIN',
        'LEFT',
        'INNER',
        'CROSS',
        'ON',
        'AND',
        'OR',
      )
    )
      cut = i;
  }
  if (cut <= 0) return null;
  let out = render(tokens.slice(0, cut)).trim();
  // "LEFT JOIN" drops both words.
  out = out.replace(/\s+(LEFT|INNER|CROSS|NATURAL)(\s+OUTER)?$/i, '');
  return out || null;
}
