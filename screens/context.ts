// What the shell gives every screen: the site, the configuration, the shared services, and the
// dialog/prompt/flash primitives. Screens reach it with useConsole() (hooks.ts).
import type { ComponentType } from 'react';
import { createContext } from 'react';
import type { Config } from '../services/config.js';
import type { Logger } from '../services/logger.js';
import type { StateDb } from '../services/state-db.js';
import type { ServiceRegistry } from '../services/store.js';
import type { SiteContext } from '../source/commands/types.js';
import type { KeyBinding } from '../source/keymap.js';

export type ScreenId = 'overview' | 'resources' | 'logs' | 'backups' | 'database' | 'bench';

export interface ScreenProps {
  /** Columns and rows the screen may draw in (the shell's header, tabs, status and footer excluded). */
  width: number;
  height: number;
}

export interface ScreenDefinition {
  id: ScreenId;
  /** The digit that opens it. */
  key: string;
  title: string;
  /** Paragraphs for the help overlay: what the screen shows and how to read it. */
  help: string[];
  /** The screen's own commands (footer, help, read-only). Navigation keys come on top. */
  bindings: KeyBinding[];
  Component: ComponentType<ScreenProps>;
}

export interface ConfirmOptions {
  title: string;
  /** Lines explaining exactly what will happen. */
  body: string[];
  /** Label of the confirming choice, e.g. 'Delete 3 backups'. */
  confirmLabel?: string;
  danger?: boolean;
  /** When set, the user must type this text exactly (e.g. a backup's full name) to confirm. */
  typeToConfirm?: string;
}

export interface PromptOptions {
  label: string;
  initial?: string;
  placeholder?: string;
  /** Called on every keystroke, for live filters. */
  onChange?: (value: string) => void;
}

export type FlashLevel = 'info' | 'success' | 'warning' | 'error';

export interface ConsoleUi {
  /** A modal confirmation; resolves false on Esc or 'n'. Refused (false) in read-only mode when `changes` is set. */
  confirm(options: ConfirmOptions): Promise<boolean>;
  /** A one-line text prompt on the status line; resolves null on Esc. */
  prompt(options: PromptOptions): Promise<string | null>;
  /** A message on the status line for a few seconds. */
  flash(message: string, level?: FlashLevel): void;
  /** Switch to another screen. */
  show(screen: ScreenId): void;
}

export interface ConsoleContextValue {
  site: SiteContext;
  config: Config;
  readOnly: boolean;
  color: boolean;
  demo: boolean;
  log: Logger;
  /** The console's state database for this site, opened on first use. */
  stateDb(): StateDb;
  /** Long-lived services shared by screens (samplers, followers), disposed on exit. */
  services: ServiceRegistry;
  ui: ConsoleUi;
}

export const ConsoleContext = createContext<ConsoleContextValue | null>(null);

/** Commands of the active screen go to the handler registered here; true means handled. */
export type CommandHandler = (command: string) => boolean | undefined;

export interface KeyRouterValue {
  setScreenHandler(handler: CommandHandler): void;
  /** Removes the handler if it is still the current one (the next screen may have set its own). */
  clearScreenHandler(handler: CommandHandler): void;
}

export const KeyRouterContext = createContext<KeyRouterValue | null>(null);
