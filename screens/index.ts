// The six screens of DESIGN.md, in tab order. Each screen is one file exporting its definition.
import { backupsScreen } from './backups.js';
import { benchScreen } from './bench.js';
import type { ScreenDefinition } from './context.js';
import { databaseScreen } from './database.js';
import { logsScreen } from './logs.js';
import { overviewScreen } from './overview.js';
import { resourcesScreen } from './resources.js';

export const SCREENS: ScreenDefinition[] = [
  overviewScreen,
  resourcesScreen,
  logsScreen,
  backupsScreen,
  databaseScreen,
  benchScreen,
];
