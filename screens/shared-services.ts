// Services more than one screen (and the shell's header) read, created once per console.
import { type AlertCounts, AlertService } from '../services/alerts.js';
import { type AppStatus, watchAppStatus } from '../services/app-status.js';
import { ResourceMonitor } from '../services/resource-monitor.js';
import { createStore, type Store } from '../services/store.js';
import { everyAligned } from '../services/ticks.js';
import type { ConsoleContextValue } from './context.js';

export function appStatusStore(
  ctx: Pick<ConsoleContextValue, 'services' | 'site' | 'config'>,
): Store<AppStatus> {
  return ctx.services.get(
    'app-status',
    () =>
      watchAppStatus({
        pidFile: ctx.site.paths.pidFile,
        pattern: ctx.config.app.processPattern,
        siteRoot: ctx.site.paths.root,
      }),
    (w) => w.stop(),
  ).store;
}

export interface SharedAlerts {
  service: AlertService;
  /** Active alert counts, kept current from this console's raises and other processes' (polled). */
  counts: Store<AlertCounts>;
}

/** The console's alert service: every screen raises through it, the header shows its counts. */
export function sharedAlerts(
  ctx: Pick<ConsoleContextValue, 'services' | 'stateDb' | 'config'>,
): SharedAlerts {
  return ctx.services.get(
    'alerts',
    () => {
      const service = new AlertService(ctx.stateDb(), { cooldownSeconds: ctx.config.alerts.cooldownSeconds });
      const counts = createStore(service.counts());
      // A new object only when a count changed: every store change redraws the frame.
      const unsubscribe = service.subscribe(() => {
        const next = service.counts();
        counts.set((previous) => (JSON.stringify(previous) === JSON.stringify(next) ? previous : next));
      });
      // Another console or a cron run may raise or clear alerts in the same state database.
      const stopPolling = everyAligned(2000, () => service.poll());
      const stop = () => {
        stopPolling();
        unsubscribe();
      };
      return { service, counts, stop };
    },
    (shared) => shared.stop(),
  );
}

/**
 * The resources pipeline (sampler, history, analysis, resource alerts), started once per console
 * and ticking whatever screen is shown, so history and alerts keep up; screen 2 draws its store.
 */
export function resourceMonitor(
  ctx: Pick<ConsoleContextValue, 'services' | 'stateDb' | 'config' | 'site'>,
): ResourceMonitor {
  return ctx.services.get(
    'resources',
    () => {
      const monitor = new ResourceMonitor({
        config: ctx.config,
        paths: ctx.site.paths,
        db: ctx.stateDb(),
        alerts: sharedAlerts(ctx).service,
      });
      monitor.start();
      return monitor;
    },
    (monitor) => monitor.stop(),
  );
}
