// The `?` overlay: what this screen shows and every key that works on it, from the keymap.
import { Box, Text } from 'ink';
import { padEnd, wrapText } from '../../screens/components/text.js';
import type { ScreenDefinition } from '../../screens/context.js';
import { GLOBAL, type KeyBinding, keyLabel, NAVIGATION } from '../keymap.js';

function keysOf(b: KeyBinding): string {
  return b.keys.map(keyLabel).join(' ');
}

export function helpLines(
  screen: ScreenDefinition,
  readOnly: boolean,
  width: number,
  /** One line for the standard moving keys instead of one per key (when space is short). */
  compactMoving = false,
): Array<{ text: string; tone?: 'title' | 'dim' | 'warn' }> {
  const lines: Array<{ text: string; tone?: 'title' | 'dim' | 'warn' }> = [];
  lines.push({ text: `Help: ${screen.key} ${screen.title}`, tone: 'title' });
  for (const p of screen.help) for (const line of wrapText(p, width)) lines.push({ text: line });
  lines.push({ text: '' });
  const section = (title: string, bindings: KeyBinding[]) => {
    if (bindings.length === 0) return;
    lines.push({ text: title, tone: 'title' });
    for (const b of bindings) {
      const suffix = b.changes
        ? readOnly
          ? '  (disabled: read-only)'
          : '  (changes something; asks first)'
        : '';
      lines.push({
        text: `  ${padEnd(keysOf(b), 14)} ${b.description}${suffix}`,
        tone: b.changes && readOnly ? 'dim' : undefined,
      });
    }
  };
  section('This screen', screen.bindings);
  const screenKeys = new Set(screen.bindings.flatMap((b) => b.keys));
  const moving = NAVIGATION.filter((b) => !b.keys.every((k) => screenKeys.has(k)));
  if (compactMoving && moving.length) {
    lines.push({ text: 'Moving', tone: 'title' });
    lines.push({ text: `  ${moving.map((b) => `${keysOf(b)} ${b.description.split(' ')[0]}`).join(', ')}` });
  } else section('Moving', moving);
  section('Everywhere', [
    {
      command: 'screens',
      keys: ['1', '2', '3', '4', '5', '6'],
      label: '',
      description: 'switch screen (also Tab, Shift-Tab)',
    },
    ...GLOBAL.filter((b) => b.command !== 'next-screen' && b.command !== 'previous-screen'),
  ]);
  if (readOnly)
    lines.push({
      text: 'Read-only mode: actions that change something are hidden and refused.',
      tone: 'warn',
    });
  return lines;
}

/** Drawn over the screen: every line padded to the full width so nothing underneath shows through. */
export function HelpOverlay({
  screen,
  readOnly,
  width,
  height,
  offset,
}: {
  screen: ScreenDefinition;
  readOnly: boolean;
  width: number;
  height: number;
  /** First line shown, when the help is taller than the screen (↑↓ scroll). */
  offset?: number;
}) {
  const inner = width - 4;
  const room = Math.max(1, height - 2);
  let lines = helpLines(screen, readOnly, inner);
  if (lines.length > room) lines = helpLines(screen, readOnly, inner, true);
  let shown = lines;
  if (lines.length > room) {
    const start = Math.max(0, Math.min(offset ?? 0, lines.length - (room - 1)));
    shown = [
      ...lines.slice(start, start + room - 1),
      {
        text: `↑↓ scroll: lines ${start + 1}-${Math.min(lines.length, start + room - 1)} of ${lines.length}`,
        tone: 'dim',
      },
    ];
  }
  return (
    <Box
      position="absolute"
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="round"
      borderColor="cyan"
    >
      {shown.map((line, i) => (
        <Text
          // biome-ignore lint/suspicious/noArrayIndexKey: static lines
          key={i}
          bold={line.tone === 'title'}
          dimColor={line.tone === 'dim'}
          color={line.tone === 'warn' ? 'yellow' : undefined}
          wrap="truncate"
        >
          {` ${padEnd(line.text, inner)} `}
        </Text>
      ))}
      {Array.from({ length: Math.max(0, height - 2 - shown.length) }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: filler lines
        <Text key={`pad${i}`}>{' '.repeat(inner + 2)}</Text>
      ))}
    </Box>
  );
}
