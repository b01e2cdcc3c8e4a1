// The console shell: header, tab bar, the active screen, status line and footer; one input router
// with modes (normal, help, dialog, prompt) so that typing into a field never fires a global key.
import { TextInput } from '@inkjs/ui';
import { Box, type Key, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { webhookNotifier } from '../../screens/alert-notifier.js';
import type {
  CommandHandler,
  ConfirmOptions,
  ConsoleContextValue,
  ConsoleUi,
  FlashLevel,
  PromptOptions,
  ScreenDefinition,
  ScreenId,
} from '../../screens/context.js';
import { ConsoleContext, KeyRouterContext } from '../../screens/context.js';
import { useStore } from '../../screens/hooks.js';
import { appStatusStore, resourceMonitor, sharedAlerts } from '../../screens/shared-services.js';
import type { Store } from '../../services/store.js';
import { findBinding, GLOBAL, keyName, NAVIGATION } from '../keymap.js';
import { Dialog } from './dialog.js';
import { Footer } from './footer.js';
import { Header } from './header.js';
import { HelpOverlay } from './help.js';
import { TabBar } from './tabs.js';

export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

export interface TerminalSize {
  columns: number;
  rows: number;
}

export type ShellContext = Omit<ConsoleContextValue, 'ui'>;

export interface AppProps {
  context: ShellContext;
  screens: ScreenDefinition[];
  size: Store<TerminalSize>;
  initialScreen?: ScreenId;
}

type Mode = 'normal' | 'help' | 'dialog' | 'prompt';

interface Flash {
  text: string;
  level: FlashLevel;
}

const FLASH_COLOR: Record<FlashLevel, string> = {
  info: 'cyan',
  success: 'green',
  warning: 'yellow',
  error: 'red',
};

export function App({ context, screens, size, initialScreen = 'overview' }: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useStore(size);
  const [active, setActive] = useState<ScreenId>(initialScreen);
  const [helpOpen, setHelpOpen] = useState(false);
  const [helpScroll, setHelpScroll] = useState(0);
  const [dialog, setDialog] = useState<{ options: ConfirmOptions; resolve: (ok: boolean) => void } | null>(
    null,
  );
  const [prompt, setPrompt] = useState<{
    options: PromptOptions;
    resolve: (value: string | null) => void;
  } | null>(null);
  const [flash, setFlash] = useState<Flash | null>(null);
  const screenHandler = useRef<CommandHandler | null>(null);
  const flashTimer = useRef<NodeJS.Timeout | null>(null);

  const mode: Mode = dialog ? 'dialog' : prompt ? 'prompt' : helpOpen ? 'help' : 'normal';
  const screen = screens.find((s) => s.id === active) ?? screens[0]!;

  const showFlash = useCallback((text: string, level: FlashLevel = 'info') => {
    if (flashTimer.current) clearTimeout(flashTimer.current);
    setFlash({ text, level });
    flashTimer.current = setTimeout(() => setFlash(null), level === 'error' ? 8000 : 4000);
  }, []);
  useEffect(() => () => void (flashTimer.current && clearTimeout(flashTimer.current)), []);

  const ui = useMemo<ConsoleUi>(
    () => ({
      confirm: (options) =>
        new Promise<boolean>((resolve) => {
          setDialog({ options, resolve });
        }),
      prompt: (options) =>
        new Promise<string | null>((resolve) => {
          setPrompt({ options, resolve });
        }),
      flash: showFlash,
      show: (id) => {
        setHelpOpen(false);
        setActive(id);
      },
    }),
    [showFlash],
  );
  const value = useMemo<ConsoleContextValue>(() => ({ ...context, ui }), [context, ui]);
  const router = useMemo(
    () => ({
      setScreenHandler: (handler: CommandHandler) => {
        screenHandler.current = handler;
      },
      clearScreenHandler: (handler: CommandHandler) => {
        if (screenHandler.current === handler) screenHandler.current = null;
      },
    }),
    [],
  );

  const switchBy = (delta: number) =>
    setActive((current) => {
      const i = screens.findIndex((s) => s.id === current);
      return screens[(i + delta + screens.length) % screens.length]!.id;
    });

  // Keys may arrive before the effects of the last render have re-subscribed the input handler,
  // so the handler reads the current state through a ref, never through its closure.
  const latest = useRef({ mode, screen, prompt });
  latest.current = { mode, screen, prompt };

  // Ink hands over one read of stdin at a time: keys typed fast, sent over a slow SSH link or while
  // a frame was being drawn arrive together ("3456?") and would match nothing. Outside a text prompt,
  // plain printable characters are taken one by one.
  // Each key is handled after the previous one has been committed: ink hands a read to its input
  // handlers inside one React batch, so keys handled in a loop would all see the state before the
  // first ("jjj" moved the selection once). The rest of a burst waits in a queue; handling a key
  // also bumps keyTurn, so the key's updates and App commit together, and App's layout effect (run
  // after every child's, where screens refresh their handlers) takes the next key.
  const queued = useRef<Array<[string, Key]>>([]);
  const [keyTurn, setKeyTurn] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once per key turn; handleKey reads the latest state through refs
  useLayoutEffect(() => {
    if (keyTurn === 0) return;
    const next = queued.current.shift();
    if (!next) return;
    handleKey(next[0], next[1]);
    if (queued.current.length) setKeyTurn((t) => t + 1);
  }, [keyTurn]);
  useInput((input, key) => {
    const keys: Array<[string, Key]> =
      input.length > 1 &&
      latest.current.mode !== 'prompt' &&
      !key.ctrl &&
      !key.meta &&
      /^[\x20-\x7e]+$/.test(input)
        ? [...input].map((ch) => [ch, { ...key, shift: ch !== ch.toLowerCase() }])
        : [[input, key]];
    if (queued.current.length) {
      queued.current.push(...keys);
      return;
    }
    const [first, ...rest] = keys;
    handleKey(first![0], first![1]);
    if (rest.length) {
      queued.current.push(...rest);
      setKeyTurn((t) => t + 1);
    }
  });

  function handleKey(input: string, key: Key) {
    const { mode, screen, prompt } = latest.current;
    const name = keyName(input, key);
    if (name === 'ctrl+c') {
      exit();
      return;
    }
    if (mode === 'dialog') return; // the dialog reads its own keys
    if (mode === 'prompt') {
      if (name === 'escape' && prompt) {
        prompt.options.onChange?.('');
        prompt.resolve(null);
        setPrompt(null);
      }
      return; // the text field reads everything else
    }
    if (mode === 'help') {
      if (['escape', '?', 'q', 'enter'].includes(name)) setHelpOpen(false);
      // A help taller than the screen scrolls (HelpOverlay clamps the offset).
      else if (name === 'down' || name === 'j') setHelpScroll((s) => s + 1);
      else if (name === 'up' || name === 'k') setHelpScroll((s) => Math.max(0, s - 1));
      else if (name === 'pagedown' || name === 'space') setHelpScroll((s) => s + 10);
      else if (name === 'pageup') setHelpScroll((s) => Math.max(0, s - 10));
      return;
    }
    const binding = findBinding(screen.bindings, name) ?? findBinding(NAVIGATION, name);
    if (binding) {
      if (binding.changes && context.readOnly) {
        showFlash(`read-only mode: "${binding.label}" is disabled`, 'warning');
        return;
      }
      if (screenHandler.current?.(binding.command)) return;
    }
    const target = screens.find((s) => s.key === name);
    if (target) {
      setActive(target.id);
      return;
    }
    const global = findBinding(GLOBAL, name);
    if (!global) return;
    if (global.command === 'quit') exit();
    else if (global.command === 'help') {
      setHelpScroll(0);
      setHelpOpen(true);
    } else if (global.command === 'next-screen') switchBy(1);
    else if (global.command === 'previous-screen') switchBy(-1);
  }

  const app = useStore(appStatusStore(value));
  const alerts = useStore(sharedAlerts(value).counts);
  // Resources are sampled from the start, whatever the screen, so history and alerts keep up;
  // a second after opening, so the first frame and keys never wait for it (screen 2 starts it at once).
  useEffect(() => {
    const timer = setTimeout(() => resourceMonitor(value), 1000);
    return () => clearTimeout(timer);
  }, [value]);
  // Alerts out by webhook, when alerts.webhook.url is set (screens/alert-notifier.ts).
  useEffect(() => void webhookNotifier(value), [value]);

  // Ink takes a frame as tall as the terminal down its clear-and-redraw path on every render
  // (INK-NOTES.md), so the frame is one line shorter than the terminal.
  const frameHeight = Math.max(1, rows - 1);
  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    return (
      <Box width={columns} height={frameHeight} alignItems="center" justifyContent="center">
        <Text color="yellow" wrap="truncate">
          terminal too small ({columns}x{rows}): needs {MIN_COLUMNS}x{MIN_ROWS}
        </Text>
      </Box>
    );
  }
  const bodyHeight = frameHeight - 4;
  const Screen = screen.Component;
  return (
    <ConsoleContext.Provider value={value}>
      <KeyRouterContext.Provider value={router}>
        <Box flexDirection="column" width={columns} height={frameHeight}>
          <Header
            width={columns}
            root={context.site.paths.root}
            demo={context.demo}
            app={app}
            alerts={alerts}
            readOnly={context.readOnly}
          />
          <TabBar screens={screens} active={screen.id} width={columns} />
          <Box height={bodyHeight} width={columns} flexDirection="column" overflow="hidden">
            <Screen key={screen.id} width={columns} height={bodyHeight} />
            {helpOpen ? (
              <HelpOverlay
                screen={screen}
                readOnly={context.readOnly}
                width={columns}
                height={bodyHeight}
                offset={helpScroll}
              />
            ) : null}
            {dialog ? (
              <Dialog
                options={dialog.options}
                width={columns}
                height={bodyHeight}
                onAnswer={(ok) => {
                  dialog.resolve(ok);
                  setDialog(null);
                }}
              />
            ) : null}
          </Box>
          <Box width={columns} height={1}>
            {prompt ? (
              <Box>
                <Text color="cyan">{prompt.options.label} </Text>
                <TextInput
                  defaultValue={prompt.options.initial}
                  placeholder={prompt.options.placeholder}
                  onChange={prompt.options.onChange}
                  onSubmit={(text) => {
                    prompt.resolve(text);
                    setPrompt(null);
                  }}
                />
              </Box>
            ) : flash ? (
              <Text color={FLASH_COLOR[flash.level]} wrap="truncate">
                {flash.text}
              </Text>
            ) : (
              <Text> </Text>
            )}
          </Box>
          <Footer bindings={screen.bindings} readOnly={context.readOnly} width={columns} mode={mode} />
        </Box>
      </KeyRouterContext.Provider>
    </ConsoleContext.Provider>
  );
}
