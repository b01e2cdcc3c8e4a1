import { Coming } from './components/coming.js';
import type { ScreenDefinition, ScreenProps } from './context.js';

function DatabaseScreen({ width }: ScreenProps) {
  return (
    <Coming
      title="Database: health and upkeep of the SQLite file"
      issue={7}
      width={width}
      lines={[
        'size, WAL, pages, fragmentation, who holds the file open, lock state; tables and indexes with sizes',
        'integrity checks, ANALYZE, optimize, VACUUM behind confirmations',
        'slow-query patterns with query plans and the CREATE INDEX that would fix them',
      ]}
    />
  );
}

export const databaseScreen: ScreenDefinition = {
  id: 'database',
  key: '5',
  title: 'Database',
  help: ['Not available yet: this screen arrives with issue 7.'],
  bindings: [],
  Component: DatabaseScreen,
};
