// The console's webhook notifier: started once per console (ServiceRegistry) when
// alerts.webhook.url is configured, sending the events of the console's alert service (every
// source, and what other processes raise in the same state database). Deliveries run on timers and
// fetch: nothing here ever waits on the screen's thread.
import { WebhookNotifier, webhookOptionsFrom } from '../services/notify-webhook.js';
import type { ConsoleContextValue } from './context.js';
import { sharedAlerts } from './shared-services.js';

export function webhookNotifier(
  ctx: Pick<ConsoleContextValue, 'services' | 'stateDb' | 'config' | 'site' | 'log'>,
): WebhookNotifier | null {
  if (!ctx.config.alerts.webhook.url) return null;
  return ctx.services.get(
    'webhook-notifier',
    () => {
      const alerts = sharedAlerts(ctx).service;
      const notifier = new WebhookNotifier(
        webhookOptionsFrom(ctx.config, {
          db: ctx.stateDb(),
          site: ctx.site.paths.root,
          onError: (message) => ctx.log.warn(message),
        })!,
      );
      const detach = notifier.attach(alerts);
      return { notifier, detach };
    },
    ({ notifier, detach }) => {
      detach();
      notifier.stop();
    },
  ).notifier;
}
