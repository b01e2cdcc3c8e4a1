// The top line: product, DEMO mark, site, host, application up/down, alerts, clock.
import os from 'node:os';
import { Box, Text } from 'ink';
import { memo } from 'react';
import { displayWidth, truncateStart } from '../../screens/components/text.js';
import { useNow } from '../../screens/hooks.js';
import { type AppStatus, appUptimeSeconds, formatDuration } from '../../services/app-status.js';

type AlertCounts = Pick<import('../../services/alerts.js').AlertCounts, 'critical' | 'warning'>;

// The clock and the application's uptime move once a second, on the second boundary, with every
// other aligned source (services/ticks.ts): one redraw a second, of this line only in React's terms.
function Clock() {
  const now = useNow(1000);
  return <Text>{new Date(now).toTimeString().slice(0, 8)}</Text>;
}

function AppState({ app }: { app: AppStatus }) {
  const now = useNow(1000);
  const uptime = appUptimeSeconds(app, now);
  const text = app.up ? `app ● up ${uptime !== null ? formatDuration(uptime) : ''}`.trimEnd() : 'app ✖ down';
  return (
    <Text color={app.up ? 'green' : 'red'} bold={!app.up}>
      {text}
    </Text>
  );
}

export const Header = memo(function Header({
  width,
  root,
  demo,
  app,
  alerts,
  readOnly,
}: {
  width: number;
  root: string;
  demo: boolean;
  app: AppStatus;
  alerts: AlertCounts;
  readOnly: boolean;
}) {
  const host = os.hostname();
  // Widest the uptime gets below a day ("23h 59m"), so the site path does not jump each second.
  const appText = app.up ? 'app ● up 23h 59m' : 'app ✖ down';
  const alertText = `alerts ✖${alerts.critical} ▲${alerts.warning}`;
  const fixed = [
    'cadence-ops',
    demo ? ' DEMO ' : '',
    readOnly ? 'READ-ONLY' : '',
    host,
    appText,
    alertText,
    '00:00:00',
  ]
    .filter(Boolean)
    .reduce((s, part) => s + displayWidth(part) + 2, 0);
  const siteWidth = Math.max(8, width - fixed - 2);
  const home = os.homedir();
  const shownRoot = root.startsWith(`${home}/`) ? `~${root.slice(home.length)}` : root;
  return (
    <Box width={width} justifyContent="space-between">
      <Text wrap="truncate">
        <Text bold color="cyan">
          cadence-ops
        </Text>
        {demo ? (
          <Text>
            {'  '}
            <Text inverse color="magenta">
              {' DEMO '}
            </Text>
          </Text>
        ) : null}
        {readOnly ? <Text color="yellow">{'  READ-ONLY'}</Text> : null}
        {'  '}
        {truncateStart(shownRoot, siteWidth)}
        {'  '}
        <Text dimColor>{host}</Text>
        {'  '}
        <AppState app={app} />
        {'  alerts '}
        <Text color={alerts.critical ? 'red' : undefined} bold={alerts.critical > 0}>
          ✖{alerts.critical}
        </Text>{' '}
        <Text color={alerts.warning ? 'yellow' : undefined}>▲{alerts.warning}</Text>
      </Text>
      <Clock />
    </Box>
  );
});
