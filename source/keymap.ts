// One keymap of named commands. The same entries draw the footer, the help overlay and decide
// what --read-only refuses: a binding that `changes` something is hidden and refused there.
import type { Key } from 'ink';

export interface KeyBinding {
  /** Command id handed to the screen's handler. */
  command: string;
  /** Normalised key names (see keyName): 'q', 'ctrl+c', 'tab', 'shift+tab', 'enter', 'up', 'space', ... */
  keys: string[];
  /** Short label for the footer. */
  label: string;
  /** One line for the help overlay. */
  description: string;
  /** Changes the site, a backup or the database: hidden and refused in read-only mode, marked in help. */
  changes?: boolean;
  /** Leave out of the footer (still in help). */
  hidden?: boolean;
}

/** Keys every screen receives as commands (a screen may ignore them). */
export const NAVIGATION: KeyBinding[] = [
  { command: 'up', keys: ['up', 'k'], label: 'move', description: 'move up', hidden: true },
  { command: 'down', keys: ['down', 'j'], label: 'move', description: 'move down', hidden: true },
  {
    command: 'left',
    keys: ['left', 'h'],
    label: 'left',
    description: 'move left / previous pane',
    hidden: true,
  },
  {
    command: 'right',
    keys: ['right', 'l'],
    label: 'right',
    description: 'move right / next pane',
    hidden: true,
  },
  { command: 'page-up', keys: ['pageup', 'ctrl+u'], label: 'page', description: 'page up', hidden: true },
  {
    command: 'page-down',
    keys: ['pagedown', 'ctrl+d'],
    label: 'page',
    description: 'page down',
    hidden: true,
  },
  { command: 'top', keys: ['home', 'g'], label: 'top', description: 'go to the top', hidden: true },
  { command: 'bottom', keys: ['end', 'G'], label: 'bottom', description: 'go to the bottom', hidden: true },
  { command: 'open', keys: ['enter'], label: 'open', description: 'open the selected item', hidden: true },
  {
    command: 'close',
    keys: ['escape'],
    label: 'close',
    description: 'close the open detail, clear the filter',
    hidden: true,
  },
];

/** Handled by the shell itself, on every screen. */
export const GLOBAL: KeyBinding[] = [
  {
    command: 'help',
    keys: ['?'],
    label: 'help',
    description: 'help for this screen (any of Esc ? q Enter closes it)',
  },
  { command: 'next-screen', keys: ['tab'], label: 'next', description: 'next screen', hidden: true },
  {
    command: 'previous-screen',
    keys: ['shift+tab'],
    label: 'previous',
    description: 'previous screen',
    hidden: true,
  },
  { command: 'quit', keys: ['q', 'ctrl+c'], label: 'quit', description: 'quit and give the terminal back' },
];

export const FILTER_BINDING: KeyBinding = {
  command: 'filter',
  keys: ['/'],
  label: 'filter',
  description: 'filter or search (Enter keeps it, Esc clears it)',
};

/** Turns Ink's (input, key) into one name: 'a', 'G', '?', 'ctrl+c', 'enter', 'shift+tab', 'space', ... */
export function keyName(input: string, key: Key): string {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  if (key.escape) return 'escape';
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  if (key.backspace) return 'backspace';
  if (key.delete) return 'delete';
  if (key.ctrl && input) return `ctrl+${input.toLowerCase()}`;
  if (input === ' ') return 'space';
  return input;
}

/** How a key is written in the footer and help: 'enter' → 'Enter', 'ctrl+c' → 'Ctrl-C'. */
export function keyLabel(name: string): string {
  const special: Record<string, string> = {
    enter: 'Enter',
    escape: 'Esc',
    tab: 'Tab',
    'shift+tab': 'Shift-Tab',
    space: 'Space',
    up: '↑',
    down: '↓',
    left: '←',
    right: '→',
    pageup: 'PgUp',
    pagedown: 'PgDn',
    home: 'Home',
    end: 'End',
    backspace: 'Backspace',
    delete: 'Del',
  };
  if (special[name]) return special[name]!;
  if (name.startsWith('ctrl+')) return `Ctrl-${name.slice(5).toUpperCase()}`;
  return name;
}

export function findBinding(bindings: KeyBinding[], name: string): KeyBinding | undefined {
  return bindings.find((b) => b.keys.includes(name));
}
