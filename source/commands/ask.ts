// Questions a verb asks on the terminal (stdin, the prompt on stderr so stdout stays the output).
import { createInterface } from 'node:readline/promises';
import type { CommandContext } from './types.js';

/** One line typed in answer, trimmed. */
export async function ask(ctx: CommandContext, question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: ctx.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** A yes/no question, no by default: true for "y" or "yes" (any case). */
export async function askYes(ctx: CommandContext, question: string): Promise<boolean> {
  return /^y(es)?$/i.test(await ask(ctx, `${question} [y/N] `));
}
