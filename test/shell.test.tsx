import { Text } from 'ink';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScreenDefinition } from '../screens/context.js';
import { useCommands, useConsole } from '../screens/hooks.js';
import { SCREENS } from '../screens/index.js';
import { KEYS, type RenderedShell, renderShell, tick } from './helpers/shell.js';

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
    await tick(50);
    const frame = shell.lastFrame()!;
    expect(frame).toContain('1 Overview');
    expect(frame).toContain('6 Bench');
    expect(frame).toContain('Overview: the triage page');
    expect(frame).toContain('? help');
    expect(frame).toContain('q quit');
  });

  it('switches screens with digits, Tab and Shift-Tab', async () => {
    shell = renderShell();
    expect(await shell.press('3')).toContain('Logs: what is failing');
    expect(await shell.press(KEYS.tab)).toContain('Backups: what can we restore?');
    expect(await shell.press(KEYS.shiftTab, KEYS.shiftTab)).toMatch(/^Resources {2}/m);
    expect(await shell.press(KEYS.shiftTab, KEYS.shiftTab)).toContain('Bench: how fast');
  });

  it('opens help for the current screen and closes it with Esc, ? and q without quitting', async () => {
    shell = renderShell();
    await shell.press('5');
    let frame = await shell.press('?');
    expect(frame).toContain('Help: 5 Database');
    expect(frame).toContain('quit and give the terminal back');
    frame = await shell.press(KEYS.escape);
    expect(frame).not.toContain('Help: 5 Database');
    await shell.press('?');
    frame = await shell.press('q');
    expect(frame).not.toContain('Help:');
    expect(frame).toContain('Database: health');
  });

  it('says plainly when the terminal is too small and recovers when enlarged', async () => {
    shell = renderShell();
    shell.size.set({ columns: 79, rows: 30 });
    await tick();
    expect(shell.lastFrame()).toContain('terminal too small (79x30): needs 80x24');
    shell.size.set({ columns: 80, rows: 23 });
    await tick();
    expect(shell.lastFrame()).toContain('terminal too small (80x23): needs 80x24');
    shell.size.set({ columns: 80, rows: 24 });
    await tick();
    expect(shell.lastFrame()).toContain('1 Overview');
  });

  it('hands screen keys to the active screen and falls through to navigation', async () => {
    shell = renderShell({ screens: [...SCREENS.slice(0, 5), probeScreen()] });
    await shell.press('6', 'w', KEYS.up, 'j');
    expect(events).toEqual(['wipe', 'up', 'down']);
    expect(shell.lastFrame()).toContain('wiped');
  });

  it('read-only mode hides changing actions from the footer and refuses them', async () => {
    shell = renderShell({ readOnly: true, screens: [...SCREENS.slice(0, 5), probeScreen()] });
    let frame = await shell.press('6');
    expect(frame).not.toContain('w wipe');
    expect(frame).toContain('a ask');
    frame = await shell.press('w');
    expect(events).toEqual([]);
    expect(frame).toContain('read-only mode: "wipe" is disabled');
    frame = await shell.press('?');
    expect(frame).toContain('(disabled: read-only)');
  });

  it('a prompt takes every key, so typing q or a digit never quits or switches', async () => {
    shell = renderShell({ screens: [...SCREENS.slice(0, 5), probeScreen()] });
    await shell.press('6', 'a');
    await shell.press('q', '2', '?');
    const frame = await shell.press(KEYS.enter);
    expect(events).toEqual(['ask', 'prompt=q2?']);
    expect(frame).toContain('probe screen body');
  });

  it('Esc cancels a prompt', async () => {
    shell = renderShell({ screens: [...SCREENS.slice(0, 5), probeScreen()] });
    await shell.press('6', 'a', 'x', KEYS.escape);
    expect(events).toEqual(['ask', 'prompt=null']);
  });

  it('confirmations answer y, n and Esc, and type-to-confirm needs the exact name', async () => {
    shell = renderShell({ screens: [...SCREENS.slice(0, 5), probeScreen()] });
    let frame = await shell.press('6', 'c');
    expect(frame).toContain('Delete it?');
    await shell.press('n');
    await shell.press('c', 'y');
    await shell.press('c', KEYS.escape);
    expect(events).toEqual([
      'confirm',
      'confirm=false',
      'confirm',
      'confirm=true',
      'confirm',
      'confirm=false',
    ]);
    events.length = 0;
    frame = await shell.press('t');
    expect(frame).toContain('Type full_backup_1 to confirm');
    frame = await shell.press(...'full_backup', KEYS.enter);
    expect(frame).toContain('does not match');
    expect(events).toEqual(['typed']);
    await shell.press('_', '1', KEYS.enter);
    expect(events).toEqual(['typed', 'typed=true']);
  });
});
