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
  section(
    'Moving',
    NAVIGATION.filter((b) => !b.keys.every((k) => screenKeys.has(k))),
  );
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
}: {
  screen: ScreenDefinition;
  readOnly: boolean;
  width: number;
  height: number;
}) {
  const inner = width - 4;
  const lines = helpLines(screen, readOnly, inner);
  const shown = lines.slice(0, Math.max(1, height - 2));
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
