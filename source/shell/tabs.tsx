import { Box, Text } from 'ink';
import { memo } from 'react';
import type { ScreenDefinition, ScreenId } from '../../screens/context.js';

export const TabBar = memo(function TabBar({
  screens,
  active,
  width,
}: {
  screens: ScreenDefinition[];
  active: ScreenId;
  width: number;
}) {
  return (
    <Box width={width}>
      <Text wrap="truncate">
        {screens.map((s) =>
          s.id === active ? (
            // Brackets as well as inverse: the active tab must show under NO_COLOR too.
            <Text key={s.id} inverse bold>
              {`[${s.key} ${s.title}]`}
            </Text>
          ) : (
            <Text key={s.id}>
              {' '}
              <Text color="cyan">{s.key}</Text> {s.title}{' '}
            </Text>
          ),
        )}
      </Text>
    </Box>
  );
});
