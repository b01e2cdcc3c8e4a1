// The confirmation dialog, drawn over the screen. Plain confirmations take y/Enter or n/Esc; a
// dangerous one can demand the exact name typed in full.
import { TextInput } from '@inkjs/ui';
import { Box, Text, useInput } from 'ink';
import { useState } from 'react';
import { padEnd, wrapText } from '../../screens/components/text.js';
import type { ConfirmOptions } from '../../screens/context.js';

export function Dialog({
  options,
  width,
  height,
  onAnswer,
}: {
  options: ConfirmOptions;
  width: number;
  height: number;
  onAnswer: (ok: boolean) => void;
}) {
  const [typedWrong, setTypedWrong] = useState(false);
  const boxWidth = Math.min(width, Math.max(50, Math.min(90, width - 4)));
  const inner = boxWidth - 4;
  useInput((input, key) => {
    if (key.escape) onAnswer(false);
    else if (options.typeToConfirm === undefined) {
      if (key.return || input === 'y' || input === 'Y') onAnswer(true);
      else if (input === 'n' || input === 'N') onAnswer(false);
    }
  });
  const body = options.body.flatMap((p) => (p === '' ? [''] : wrapText(p, inner)));
  const maxBody = Math.max(1, height - 6);
  const shown =
    body.length > maxBody
      ? [...body.slice(0, maxBody - 1), `… ${body.length - maxBody + 1} more lines`]
      : body;
  const color = options.danger ? 'red' : 'cyan';
  return (
    <Box position="absolute" width={width} justifyContent="center">
      <Box flexDirection="column" width={boxWidth} borderStyle="double" borderColor={color}>
        <Text bold color={color}>
          {` ${padEnd(options.title, inner)} `}
        </Text>
        {shown.map((line, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: static lines
          <Text key={i}>{` ${padEnd(line, inner)} `}</Text>
        ))}
        <Text>{' '.repeat(inner + 2)}</Text>
        {options.typeToConfirm !== undefined ? (
          <Box flexDirection="column">
            <Text>{` ${padEnd(`Type ${options.typeToConfirm} to confirm, Esc to cancel:`, inner)} `}</Text>
            <Box>
              <Text> &gt; </Text>
              <TextInput
                placeholder={options.typeToConfirm}
                onSubmit={(value) => {
                  if (value === options.typeToConfirm) onAnswer(true);
                  else setTypedWrong(true);
                }}
              />
            </Box>
            {typedWrong ? (
              <Text color="red">{` ${padEnd('That does not match; type it exactly, or Esc.', inner)} `}</Text>
            ) : null}
          </Box>
        ) : (
          <Text>
            {' '}
            <Text bold color={color}>
              y
            </Text>
            {` ${options.confirmLabel ?? 'yes'}    `}
            <Text bold>n</Text>
            {padEnd(' / Esc  cancel', inner - (options.confirmLabel ?? 'yes').length - 6)}{' '}
          </Text>
        )}
      </Box>
    </Box>
  );
}
