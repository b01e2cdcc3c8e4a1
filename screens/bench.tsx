import { Coming } from './components/coming.js';
import type { ScreenDefinition, ScreenProps } from './context.js';

function BenchScreen({ width }: ScreenProps) {
  return (
    <Coming
      title="Bench: how fast do models load?"
      issue={8}
      width={width}
      lines={[
        'pick model files and run the headless loader with warm-up and repeats, with live progress',
        'per-file statistics, MB/s and triangles/s compared with the saved baseline, regressions marked',
      ]}
    />
  );
}

export const benchScreen: ScreenDefinition = {
  id: 'bench',
  key: '6',
  title: 'Bench',
  help: ['Not available yet: this screen arrives with issue 8.'],
  bindings: [],
  Component: BenchScreen,
};
