// The bottom line: the keys that work here, drawn from the same keymap as help and read-only.
import { Text } from 'ink';
import { memo } from 'react';
import { truncate } from '../../screens/components/text.js';
import { GLOBAL, type KeyBinding, keyLabel } from '../keymap.js';

export function footerText(bindings: KeyBinding[], readOnly: boolean, width: number): string {
  const visible = [...bindings, ...GLOBAL].filter((b) => !b.hidden && !(readOnly && b.changes));
  const parts = visible.map((b) => `${keyLabel(b.keys[0]!)} ${b.label}`);
  parts.splice(parts.length - 2, 0, '1-6 screens');
  return truncate(parts.join('  '), width);
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
