// What a screen shows while its capability is still being built: plainly what is coming, nothing pretended.
import { Box, Text } from 'ink';

export function Coming({
  title,
  issue,
  lines,
  width,
}: {
  title: string;
  issue: number;
  lines: string[];
  width: number;
}) {
  return (
    <Box flexDirection="column" paddingX={1} width={width}>
      <Text bold>{title}</Text>
      <Text color="yellow">Not available yet: this screen arrives with issue {issue}.</Text>
      <Text> </Text>
      <Text>It will show:</Text>
      {lines.map((line) => (
        <Text key={line} wrap="wrap">
          {'  • '}
          {line}
        </Text>
      ))}
    </Box>
  );
}
