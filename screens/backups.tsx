import { Coming } from './components/coming.js';
import type { ScreenDefinition, ScreenProps } from './context.js';

function BackupsScreen({ width }: ScreenProps) {
  return (
    <Coming
      title="Backups: what can we restore?"
      issue={5}
      width={width}
      lines={[
        'every backup with type, age, size and verification state; create, verify, prune, diff against the live site',
        'the restore walkthrough (issue 6)',
      ]}
    />
  );
}

export const backupsScreen: ScreenDefinition = {
  id: 'backups',
  key: '4',
  title: 'Backups',
  help: ['Not available yet: this screen arrives with issue 5.'],
  bindings: [],
  Component: BackupsScreen,
};
