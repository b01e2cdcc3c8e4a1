// Health states drawn with a word and a symbol as well as a colour, so they read the same under
// NO_COLOR, on 16-colour terminals and to colour-blind eyes.
import { Text } from 'ink';

export type Level = 'ok' | 'warning' | 'critical' | 'unknown' | 'info';

export const LEVEL_STYLE: Record<Level, { symbol: string; word: string; color: string }> = {
  ok: { symbol: '●', word: 'OK', color: 'green' },
  info: { symbol: '•', word: 'INFO', color: 'cyan' },
  warning: { symbol: '▲', word: 'WARN', color: 'yellow' },
  critical: { symbol: '✖', word: 'CRIT', color: 'red' },
  unknown: { symbol: '?', word: 'N/A', color: 'gray' },
};

export function StatusBadge({ level, label }: { level: Level; label?: string }) {
  const style = LEVEL_STYLE[level];
  return (
    <Text color={style.color} bold={level === 'critical'}>
      {style.symbol} {label ?? style.word}
    </Text>
  );
}
