import { describe, expect, it } from 'vitest';
import {
  detectParser,
  errorCodeOf,
  errorTypeOf,
  exceptionTypeOf,
  LineFormatError,
  parseDuration,
  parseTimestamp,
  rawParser,
  regexParser,
  timestampParser,
} from '../services/log-parse.js';

const local = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0) =>
  new Date(y, mo - 1, d, h, mi, s, ms).getTime();

describe('log-parse', () => {
  it('parses the Python logging format of SITE.md', () => {
    expect(
      timestampParser.parse(
        '2026-11-23 08:17:41,123 - candy_cadence.parsers.stl - ERROR - PAR001 Invalid file header: data/models/a.stl',
      ),
    ).toEqual({
      time: local(2026, 11, 23, 8, 17, 41, 123),
      level: 'ERROR',
      logger: 'candy_cadence.parsers.stl',
      message: 'PAR001 Invalid file header: data/models/a.stl',
    });
    // a message that itself contains " - "
    expect(timestampParser.parse('2026-11-23 08:17:41,123 - a.b - INFO - x - y - z')!.message).toBe(
      'x - y - z',
    );
  });

  it('accepts the other timestamp forms the procedures name', () => {
    const t = local(2026, 11, 23, 8, 17, 41);
    expect(parseTimestamp('2026-11-23 08:17:41 rest')!.time).toBe(t);
    expect(parseTimestamp('11/23/2026 08:17:41 rest')!.time).toBe(t);
    expect(parseTimestamp('11-23-2026 08:17:41 rest')!.time).toBe(t);
    expect(parseTimestamp('2026-11-23T08:17:41.5Z')!.time).toBe(Date.UTC(2026, 10, 23, 8, 17, 41, 500));
    expect(parseTimestamp('2026-11-23T08:17:41+02:00')!.time).toBe(Date.UTC(2026, 10, 23, 6, 17, 41));
    const h = timestampParser.parse('11/23/2026 08:17:41 [WARN] cache: over limit')!;
    expect([h.level, h.message]).toEqual(['WARNING', 'cache: over limit']);
    expect(timestampParser.parse('11-23-2026 08:17:41 - db - CRITICAL - disk full')!.level).toBe('CRITICAL');
  });

  it('treats traceback lines and non-timestamps as continuations', () => {
    for (const l of [
      'Traceback (most recent call last):',
      '  File "/opt/x.py", line 3, in f',
      'MemoryError: Unable to allocate',
      '2026-13-45 99:00:00 not a time',
      '12345 numbers first',
      '',
    ])
      expect(timestampParser.parse(l)).toBeNull();
  });

  it('extracts error codes and exception types', () => {
    expect(errorCodeOf('PAR001 Invalid file header: x')).toBe('PAR001');
    expect(errorCodeOf('something DB004 SQLITE_FULL')).toBe('DB004');
    expect(errorCodeOf('PERF1 or ERR0001 are not codes')).toBeNull();
    expect(
      exceptionTypeOf('Database write failed', [
        'Traceback (most recent call last):',
        '  File "x"',
        'sqlite3.DatabaseError: malformed',
      ]),
    ).toBe('DatabaseError');
    expect(exceptionTypeOf('x', ['Traceback (most recent call last):', 'MemoryError'])).toBe('MemoryError');
    expect(exceptionTypeOf('raised TimeoutError while loading', [])).toBe('TimeoutError');
    expect(exceptionTypeOf('nothing here', [])).toBeNull();
    expect(errorTypeOf(null, 'ERR005', 'ERR005 File not found: x')).toBe('FileNotFoundError');
    expect(errorTypeOf('OperationalError', null, 'x')).toBe('DatabaseError');
    expect(errorTypeOf(null, 'ERR006', 'ERR006 Download failed')).toBe('UnknownError');
  });

  it('--line-format needs a message group, rejects unknown groups and bad expressions', () => {
    const p = regexParser('^(?<timestamp>\\S+ \\S+) (?<level>\\w+) (?<message>.*)$');
    expect(p.parse('2026-11-23 08:00:00 error boom')).toEqual({
      time: local(2026, 11, 23, 8, 0, 0),
      level: 'ERROR',
      logger: null,
      message: 'boom',
    });
    expect(p.parse('continuation')).toBeNull();
    expect(() => regexParser('(?<level>\\w+)')).toThrow(LineFormatError);
    expect(() => regexParser('(?<msg>.*)(?<message>.*)')).toThrow(/unknown group \(\?<msg>\)/);
    expect(() => regexParser('(?<message>[')).toThrow(/not a valid regular expression/);
  });

  it('detects raw logs of other programs', () => {
    expect(
      detectParser([
        'Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user',
        'Dec 10 06:55:48 LabSZ sshd[24200]: x',
      ]),
    ).toBe(rawParser);
    expect(
      detectParser(['2026-11-23 08:00:00,000 - a - INFO - x', 'Traceback (most recent call last):']),
    ).toBe(timestampParser);
  });

  it('parses durations', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });
});
