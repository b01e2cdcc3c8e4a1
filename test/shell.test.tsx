import { Text } from 'ink';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScreenDefinition } from '../screens/context.js';
import { useCommands, useConsole } from '../screens/hooks.js';
import { SCREENS } from '../screens/index.js';
import { activeTab, KEYS, type RenderedShell, renderShell, until } from './helpers/shell.js';

let shell: RenderedShell | null = null;
afterEach(async () => {
  await shell?.dispose();
  shell = null;
});

/** A screen with one changing action, one prompt and two confirmations, recording what happened. */
const events: string[] = [];

function Probe() {
  const { ui } = useConsole();
  useCommands((command) => {
    events.push(command);
    if (command === 'wipe') ui.flash('wiped');
    if (command === 'ask') void ui.prompt({ label: 'name:' }).then((v) => events.push(`prompt=${v}`));
    if (command === 'confirm')
      void ui.confirm({ title: 'Delete it?', body: ['It goes.'] }).then((ok) => events.push(`confirm=${ok}`));
    if (command === 'typed') {
      void ui
        .confirm({
          title: 'Restore?',
          body: ['Replaces the site.'],
          danger: true,
          typeToConfirm: 'full_backup_1',
        })
        .then((ok) => events.push(`typed=${ok}`));
    }
    return command !== 'down';
  });
  return <Text>probe screen body</Text>;
}

function probeScreen(): ScreenDefinition {
  events.length = 0;
  return {
    id: 'bench',
    key: '6',
    title: 'Probe',
    help: ['A screen for tests.'],
    bindings: [
      { command: 'wipe', keys: ['w'], label: 'wipe', description: 'wipe everything', changes: true },
      { command: 'ask', keys: ['a'], label: 'ask', description: 'ask a name' },
      { command: 'confirm', keys: ['c'], label: 'confirm', description: 'confirm something' },
      { command: 'typed', keys: ['t'], label: 'typed', description: 'typed confirmation' },
    ],
    Component: Probe,
  };
}

describe('console shell', () => {
  it('opens on the Overview with the tab bar and the footer keys', async () => {
    shell = renderShell();
    const frame = await shell.frame((f) => activeTab(f) === '1 Overview' && f.includes('q quit'));
    expect(frame).toContain('6 Bench');
    expect(frame).toContain('? help');
    expect(frame).toContain('q quit');
  });

  it('switches screens with digits, Tab and Shift-Tab', async () => {
    shell = renderShell();
    await shell.press('3');
    await shell.frame((f) => activeTab(f) === '3 Logs');
    await shell.press(KEYS.tab);
    await shell.frame((f) => activeTab(f) === '4 Backups');
    await shell.press(KEYS.shiftTab, KEYS.shiftTab);
    await shell.frame((f) => activeTab(f) === '2 Resources');
    await shell.press(KEYS.shiftTab, KEYS.shiftTab);
    await shell.frame((f) => activeTab(f) === '6 Bench');
  });

  it('opens help for the current screen and closes it with Esc, ? and q without quitting', async () => {
    shell = renderShell();
    await shell.press('5', '?');
    const frame = await shell.frame((f) => f.includes('Help: 5 Database'));
    expect(frame).toContain('quit and give the terminal back');
    await shell.press(KEYS.escape);
    await shell.frame((f) => !f.includes('Help: 5 Database'));
    await shell.press('?');
    await shell.frame((f) => f.includes('Help: 5 Database'));
    await shell.press('q');
    await shell.frame((f) => !f.includes('Help:') && activeTab(f) === '5 Database');
  });

  it('says plainly when the terminal is too small and recovers when enlarged', async () => {
    shell = renderShell();
    shell.size.set({ columns: 79, rows: 30 });
    await shell.frame((f) => f.includes('terminal too small (79x30): needs 80x24'));
    shell.size.set({ columns: 80, rows: 23 });
    await shell.frame((f) => f.includes('terminal too small (80x23): needs 80x24'));
    shell.size.set({ columns: 80, rows: 24 });
    await shell.frame((f) => f.includes('1 Overview') && !f.includes('too small'));
  });

  it('hands screen keys to the active screen and falls through to navigation', async () => {
    shell = renderShell({ screens: [...SCREENS.slice(0, 5), probeScreen()] });
    await shell.press('6', 'w', KEYS.up, 'j');
    await until(() => events.length >= 3);
    expect(events).toEqual(['wipe', 'up', 'down']);
    await shell.frame((f) => f.includes('wiped'));
  });

  it('read-only mode hides changing actions from the footer and refuses them', async () => {
    shell = renderShell({ readOnly: true, screens: [...SCREENS.slice(0, 5), probeScreen()] });
    await shell.press('6');
    const frame = await shell.frame((f) => f.includes('a ask'));
    expect(frame).not.toContain('w wipe');
    await shell.press('w');
    await shell.frame((f) => f.includes('read-only mode: "wipe" is disabled'));
    expect(events).toEqual([]);
    await shell.press('?');
    await shell.frame((f) => f.includes('(disabled: read-only)'));
  });

  it('a prompt takes every key, so typing q or a digit never quits or switches', async () => {
    shell = renderShell({ screens: [...SCREENS.slice(0, 5), probeScreen()] });
    await shell.press('6', 'a');
    await shell.frame((f) => f.includes('name:'));
    await shell.press('q', '2', '?', KEYS.enter);
    await until(() => events.length >= 2);
    expect(events).toEqual(['ask', 'prompt=q2?']);
    await shell.frame((f) => f.includes('probe screen body') && activeTab(f) === '6 Probe');
  });

  it('Esc cancels a prompt', async () => {
    shell = renderShell({ screens: [...SCREENS.slice(0, 5), probeScreen()] });
    await shell.press('6', 'a');
    await shell.frame((f) => f.includes('name:'));
    await shell.press('x', KEYS.escape);
    await until(() => events.length >= 2);
    expect(events).toEqual(['ask', 'prompt=null']);
  });

  it('confirmations answer y, n and Esc, and type-to-confirm needs the exact name', async () => {
    shell = renderShell({ screens: [...SCREENS.slice(0, 5), probeScreen()] });
    const dialogOpen = (f: string) => f.includes('Delete it?');
    await shell.press('6', 'c');
    await shell.frame(dialogOpen);
    await shell.press('n');
    await until(() => events.length === 2);
    await shell.frame((f) => !dialogOpen(f));
    await shell.press('c');
    await shell.frame(dialogOpen);
    await shell.press('y');
    await until(() => events.length === 4);
    await shell.frame((f) => !dialogOpen(f));
    await shell.press('c');
    await shell.frame(dialogOpen);
    await shell.press(KEYS.escape);
    await until(() => events.length === 6);
    expect(events).toEqual([
      'confirm',
      'confirm=false',
      'confirm',
      'confirm=true',
      'confirm',
      'confirm=false',
    ]);
    events.length = 0;
    await shell.frame((f) => !dialogOpen(f));
    await shell.press('t');
    await shell.frame((f) => f.includes('Type full_backup_1 to confirm'));
    await shell.press(...'full_backup', KEYS.enter);
    await shell.frame((f) => f.includes('does not match'));
    expect(events).toEqual(['typed']);
    await shell.press('_', '1', KEYS.enter);
    await until(() => events.length === 2);
    expect(events).toEqual(['typed', 'typed=true']);
  });
});

describe('footer', () => {
  it('drops screen keys that do not fit, never help and quit', async () => {
    const { footerText } = await import('../source/shell/footer.js');
    const bindings = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'].map((w) => ({
      command: w,
      keys: [w[0]!],
      label: w,
      description: w,
    }));
    const wide = footerText(bindings, false, 200);
    expect(wide).toBe(
      'a alpha  b bravo  c charlie  d delta  e echo  f foxtrot  g golf  1-6 screens  ? help  q quit',
    );
    const narrow = footerText(bindings, false, 60);
    expect(narrow.endsWith('1-6 screens  ? help  q quit')).toBe(true);
    expect(narrow.length).toBeLessThanOrEqual(60);
    expect(narrow).toContain('a alpha');
  });
});
