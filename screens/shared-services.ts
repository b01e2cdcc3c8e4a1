// Services more than one screen (and the shell's header) read, created once per console.
import { type AppStatus, watchAppStatus } from '../services/app-status.js';
import type { Store } from '../services/store.js';
import type { ConsoleContextValue } from './context.js';

export function appStatusStore(ctx: ConsoleContextValue): Store<AppStatus> {
  return ctx.services.get(
    'app-status',
    () => watchAppStatus({ pidFile: ctx.site.paths.pidFile, pattern: ctx.config.app.processPattern }),
    (w) => w.stop(),
  ).store;
}
