// Placeholder while the shell is written.
import type { CommandContext, SiteContext } from './commands/types.js';

export async function openConsole(
  ctx: CommandContext,
  opts: { site?: SiteContext; demo?: boolean; onExit?: () => Promise<void> } = {},
): Promise<number> {
  ctx.stderr.write('console: under construction\n');
  await opts.onExit?.();
  return 2;
}
