// The bottom line: the keys that work here, drawn from the same keymap as help and read-only.
import { Text } from 'ink';
import { memo } from 'react';
import { displayWidth, truncate } from '../../screens/components/text.js';
import { GLOBAL, type KeyBinding, keyLabel } from '../keymap.js';

/**
 * The screen's keys, then the global ones. When the line is too long the screen's keys are dropped
 * from the end (help lists them all), never `? help` and `q quit`.
 */
export function footerText(bindings: KeyBinding[], readOnly: boolean, width: number): string {
  const label = (b: KeyBinding) => `${keyLabel(b.keys[0]!)} ${b.label}`;
  const screenParts = bindings.filter((b) => !b.hidden && !(readOnly && b.changes)).map(label);
  const globalParts = ['1-6 screens', ...GLOBAL.filter((b) => !b.hidden).map(label)];
  const tail = globalParts.join('  ');
  if (displayWidth(tail) >= width) return truncate(tail, width);
  const kept: string[] = [];
  let used = displayWidth(tail);
  for (const part of screenParts) {
    const cost = displayWidth(part) + 2;
    if (used + cost > width) break;
    kept.push(part);
    used += cost;
  }
  return [...kept, tail].join('  ');
}

export const Footer = memo(function Footer({
  bindings,
  readOnly,
  width,
  mode,
}: {
  bindings: KeyBinding[];
  readOnly: boolean;
  width: number;
  mode: 'normal' | 'help' | 'dialog' | 'prompt';
}) {
  const text =
    mode === 'help'
      ? 'Esc ? q Enter close help'
      : mode === 'dialog'
        ? 'answer the dialog above (Esc cancels)'
        : mode === 'prompt'
          ? 'Enter accept  Esc cancel'
          : footerText(bindings, readOnly, width);
  return (
    <Text dimColor wrap="truncate">
      {text}
    </Text>
  );
});
