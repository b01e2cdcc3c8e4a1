// Reading our multi-member backups back in parallel, and falling back to the sequential stream
// for anything else; damage found either way, with the same kind of reason.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { gunzipFile, gunzipMode } from '../services/backup-gunzip.js';
import { ParallelGzipWriter } from '../services/backup-gzip.js';
import { verifyBackup } from '../services/backup-verify.js';
import { configSchema } from '../services/config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-gunzip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const input = Buffer.from(
  Array.from({ length: 400_000 }, (_, i) => `row ${i} ${(i * 7919) % 1000}\n`).join(''),
);

async function ours(chunkBytes = 256 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  const gz = new ParallelGzipWriter({ write: async (b) => void parts.push(b) }, { chunkBytes });
  for (let i = 0; i < input.length; i += 100_000) await gz.write(input.subarray(i, i + 100_000));
  await gz.end();
  return Buffer.concat(parts);
}

async function readAll(file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of gunzipFile(file)) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('gunzipFile', () => {
  it('reads our members in parallel and anyone else’s sequentially, to the same bytes', async () => {
    const mine = path.join(dir, 'mine.gz');
    writeFileSync(mine, await ours());
    expect(await gunzipMode(mine)).toBe('parallel');
    expect((await readAll(mine)).equals(input)).toBe(true);
    // Standard tools read it as one stream.
    expect(execFileSync('gzip', ['-dc', mine], { maxBuffer: 1 << 26 }).equals(input)).toBe(true);
    const theirs = path.join(dir, 'theirs.gz');
    writeFileSync(theirs, gzipSync(input));
    expect(await gunzipMode(theirs)).toBe('sequential');
    expect((await readAll(theirs)).equals(input)).toBe(true);
  });

  it('finds damage in our format: a flipped bit, a truncation, junk after the end, a lying size', async () => {
    const good = await ours();
    const cases: Array<[string, Buffer, 'parallel' | 'sequential', RegExp]> = [];
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x20;
    cases.push(['flipped', flipped, 'parallel', /incorrect data check|invalid|unexpected end|distance/]);
    cases.push(['truncated', good.subarray(0, good.length - 1000), 'sequential', /unexpected end of file/]);
    cases.push([
      'junk after',
      Buffer.concat([good, Buffer.from('JUNK')]),
      'sequential',
      /incorrect header check|unknown/,
    ]);

    for (const [name, bytes, mode, error] of cases) {
      const file = path.join(dir, `${name}.gz`);
      writeFileSync(file, bytes);
      expect(await gunzipMode(file), name).toBe(mode);
      const err = await readAll(file).then(
        (out) => (out.equals(input) ? null : new Error('different bytes')),
        (e) => e,
      );
      expect(err, name).toBeInstanceOf(Error);
      expect(String(err.message), name).toMatch(error);
    }
  });

  it('treats the sizes as hints: lying ones cost speed, never correctness', async () => {
    const good = await ours();
    // The first member claims 100 bytes less: the chain no longer tiles the file (sequential).
    const short = Buffer.from(good);
    short.writeUInt32LE(short.readUInt32LE(16) - 100, 16);
    // The first two trade 100 bytes: the second header is no longer where the first one says.
    const shifted = Buffer.from(good);
    const second = shifted.readUInt32LE(16);
    shifted.writeUInt32LE(second - 100, 16);
    shifted.writeUInt32LE(shifted.readUInt32LE(second + 16) + 100, second + 16);
    for (const [name, bytes, mode] of [
      ['short', short, 'sequential'],
      ['shifted', shifted, 'sequential'],
    ] as const) {
      const file = path.join(dir, `${name}.gz`);
      writeFileSync(file, bytes);
      expect(await gunzipMode(file), name).toBe(mode);
      expect((await readAll(file)).equals(input), name).toBe(true);
    }
  });

  it('verification gives the same reasons through either path', async () => {
    const config = configSchema.parse({ backups: { tempDir: dir } });
    const good = await ours();
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x20;
    const file = path.join(dir, 'candy_cadence_backup_20260101_000000.db.gz');
    writeFileSync(file, flipped);
    const r = await verifyBackup(file, { config, inline: true });
    expect(r.reason).toMatch(/^gzip: (CRC-32 mismatch|corrupt compressed data)/);
    writeFileSync(file, good.subarray(0, good.length - 50));
    expect((await verifyBackup(file, { config, inline: true })).reason).toMatch(
      /^gzip: the file ends in the middle of the compressed data/,
    );
    void readFileSync;
  });
});
