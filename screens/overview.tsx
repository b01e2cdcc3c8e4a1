import { Box, Text } from 'ink';
import { formatDuration } from '../services/app-status.js';
import { Coming } from './components/coming.js';
import type { ScreenDefinition, ScreenProps } from './context.js';
import { useConsole, useStore } from './hooks.js';
import { appStatusStore } from './shared-services.js';

function Overview({ width }: ScreenProps) {
  const ctx = useConsole();
  const app = useStore(appStatusStore(ctx));
  return (
    <Box flexDirection="column" width={width}>
      <Box paddingX={1}>
        <Text>
          Application:{' '}
          {app.up ? (
            <Text color="green">
              ● up {app.uptimeSeconds !== null ? formatDuration(app.uptimeSeconds) : ''} (pid {app.pid}, found
              by {app.via})
            </Text>
          ) : (
            <Text color="red">✖ not running (since {new Date(app.since).toLocaleTimeString()})</Text>
          )}
          {app.stalePidFile ? <Text color="yellow"> ▲ {app.stalePidFile}</Text> : null}
        </Text>
      </Box>
      <Coming
        title="Overview: the triage page"
        issue={9}
        width={width}
        lines={[
          'one verdict (healthy, warning, critical) with the failing checks and what to do about each',
          'active alerts, acknowledged with a key',
          'the newest and busiest error clusters',
          'the resource headline and the age of the last verified backup of each kind',
        ]}
      />
    </Box>
  );
}

export const overviewScreen: ScreenDefinition = {
  id: 'overview',
  key: '1',
  title: 'Overview',
  help: [
    'The triage page: whether the application is up. The health verdict, alerts, newest error clusters and backup ages arrive with the health issue.',
  ],
  bindings: [],
  Component: Overview,
};
