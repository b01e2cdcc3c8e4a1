// /proc/loadavg: "0.06 0.15 0.09 1/89 6900": 1, 5 and 15 minute load, runnable/total tasks, last pid.
import { ProcParseError } from './proc-file.js';

export interface LoadAverage {
  one: number;
  five: number;
  fifteen: number;
  runnable: number | null;
  tasks: number | null;
}

export function parseLoadavg(text: string): LoadAverage {
  const [a, b, c, tasks] = text.trim().split(/\s+/);
  const one = Number(a);
  const five = Number(b);
  const fifteen = Number(c);
  if (![one, five, fifteen].every(Number.isFinite) || a === undefined || c === undefined)
    throw new ProcParseError('/proc/loadavg', `unexpected content "${text.trim().slice(0, 40)}"`);
  const [r, t] = (tasks ?? '').split('/');
  const runnable = Number(r);
  const total = Number(t);
  return {
    one,
    five,
    fifteen,
    runnable: tasks && Number.isFinite(runnable) ? runnable : null,
    tasks: tasks && Number.isFinite(total) ? total : null,
  };
}
