// The top line: product, DEMO mark, site, host, application up/down, alerts, clock.
import os from 'node:os';
import { Box, Text } from 'ink';
import { memo, useEffect, useState } from 'react';
import { displayWidth, truncateStart } from '../../screens/components/text.js';
import { type AppStatus, formatDuration } from '../../services/app-status.js';
import { everyAligned } from '../../services/ticks.js';

type AlertCounts = Pick<import('../../services/alerts.js').AlertCounts, 'critical' | 'warning'>;

function Clock() {
  const [now, setNow] = useState(() => new Date());
  // On the second boundary, with every other aligned source (services/ticks.ts): one redraw a second.
  useEffect(() => everyAligned(1000, () => setNow(new Date())), []);
  return <Text>{now.toTimeString().slice(0, 8)}</Text>;
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
  const appText = app.up
    ? `app ● up ${app.uptimeSeconds !== null ? formatDuration(app.uptimeSeconds) : ''}`.trimEnd()
    : 'app ✖ down';
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
        <Text color={app.up ? 'green' : 'red'} bold={!app.up}>
          {appText}
        </Text>
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
