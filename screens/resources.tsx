import { Coming } from './components/coming.js';
import type { ScreenDefinition, ScreenProps } from './context.js';

function ResourcesScreen({ width }: ScreenProps) {
  return (
    <Coming
      title="Resources: is the host or the application starving?"
      issue={3}
      width={width}
      lines={[
        'per-core CPU, memory and swap, every filesystem, disk I/O, network and load, with sparklines and threshold colours',
        'the application process: CPU, RSS, threads, open files, uptime',
        "a leak trend on the application's RSS, with its slope and the time to the alert",
      ]}
    />
  );
}

export const resourcesScreen: ScreenDefinition = {
  id: 'resources',
  key: '2',
  title: 'Resources',
  help: ['Not available yet: this screen arrives with issue 3.'],
  bindings: [],
  Component: ResourcesScreen,
};
