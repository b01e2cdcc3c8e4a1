// The console's own log: pino to a file in the state folder, never to the screen (a write to fd
// 1 or 2 would tear the frame).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function createFileLogger(file: string, level: string = 'info'): Logger {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Synchronous writes: a crash or SIGKILL still leaves the last lines on disk.
  const destination = pino.destination({ dest: file, sync: true, mkdir: true });
  return pino({ level, base: { pid: process.pid } }, destination);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
