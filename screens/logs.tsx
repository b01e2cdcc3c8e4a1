import { Coming } from './components/coming.js';
import type { ScreenDefinition, ScreenProps } from './context.js';

function LogsScreen({ width }: ScreenProps) {
  return (
    <Coming
      title="Logs: what is failing, since when, how often"
      issue={4}
      width={width}
      lines={[
        'all log files merged live, coloured by level, tracebacks attached; level filter, search, pause',
        'errors grouped into templates with counts, rate sparklines, first and last seen, samples',
        'the error timeline per hour',
      ]}
    />
  );
}

export const logsScreen: ScreenDefinition = {
  id: 'logs',
  key: '3',
  title: 'Logs',
  help: ['Not available yet: this screen arrives with issue 4.'],
  bindings: [],
  Component: LogsScreen,
};
