// Opens the full-screen console and owns the terminal: the alternate screen on the way in, and on
// the way out, whatever the reason (q, Ctrl-C, SIGTERM, SIGHUP, a crash), Ink unmounted first,
// then the main screen and the cursor restored, then the error printed, then child work stopped.
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { render } from 'ink';
import { SCREENS } from '../screens/index.js';
import { pendingRestore } from '../services/restore-journal.js';
import { isDemoSite } from '../services/site.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { createStore, ServiceRegistry } from '../services/store.js';
import { everyAligned, setTickBatch } from '../services/ticks.js';
import { verbs } from './commands/index.js';
import type { CommandContext, SiteContext } from './commands/types.js';
import { App, type ShellContext, type TerminalSize } from './shell/app.js';

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[2J\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

export interface OpenConsoleOptions {
  site?: SiteContext;
  demo?: boolean;
  /** Runs after the terminal is restored (e.g. stop the demo's simulator). */
  onExit?: () => Promise<void>;
}

function noTerminalMessage(): string {
  return (
    'cadence-ops: the console needs a terminal (stdin and stdout must be a TTY).\n' +
    `Headless verbs: ${verbs.map((v) => v.name).join(', ')} (cadence-ops --help for each)\n`
  );
}

export async function openConsole(ctx: CommandContext, opts: OpenConsoleOptions = {}): Promise<number> {
  // Optimise a function only after 16 times V8's default budget, in the console alone: at one frame
  // a second, lukewarm code was compiled and recompiled for minutes after start-up (0.2–0.3 % of a
  // core on V8's helper thread). Set here, before the screens' code first runs, not in the #! line:
  // a scan (`logs analyze`) spent ~0.5 s more CPU on 1 GB waiting for its hot loop to be optimised.
  setFlagsFromString('--interrupt-budget=1048576');
  let site: SiteContext;
  try {
    site = opts.site ?? ctx.site();
  } catch (err) {
    await opts.onExit?.();
    throw err;
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    ctx.stderr.write(noTerminalMessage());
    await opts.onExit?.();
    return 2;
  }
  const stdout = process.stdout;
  const services = new ServiceRegistry();
  let stateDb: StateDb | null = null;
  const context: ShellContext = {
    site,
    config: site.loaded.config,
    readOnly: ctx.readOnly,
    color: ctx.color,
    demo: opts.demo ?? isDemoSite(site.paths.root),
    log: ctx.log,
    stateDb: () => {
      stateDb ??= openStateDb(site.stateDbPath);
      return stateDb;
    },
    services,
  };
  const size = createStore<TerminalSize>({ columns: stdout.columns || 80, rows: stdout.rows || 24 });

  const safeWrite = (text: string) => {
    try {
      stdout.write(text);
    } catch {
      // The terminal is gone (SIGHUP, SSH dropped): nothing left to restore.
    }
  };
  // A dropped connection makes writes fail with EIO/EPIPE; that must end the console quietly.
  stdout.on('error', () => void teardown('stdout error'));

  safeWrite(ENTER_ALT_SCREEN);
  ctx.log.info({ root: site.paths.root, columns: size.get().columns, rows: size.get().rows }, 'console open');
  // An interrupted restore opens the console on the Backups screen, which offers to finish or undo it.
  const initialScreen = pendingRestore(site.paths.root) ? 'backups' : undefined;
  // The console's own cost, in its log once a minute: how often it drew and what it holds.
  // One commit per aligned tick (the bundle exposes ink's reconciler batch: source/tools/ink-patches.mjs).
  const batchedUpdates = (globalThis as { __cadenceInkBatchedUpdates?: (run: () => void) => void })
    .__cadenceInkBatchedUpdates;
  if (batchedUpdates) setTickBatch(batchedUpdates);
  let renders = 0;
  let renderMs = 0;
  const instance = render(
    <App context={context} screens={SCREENS} size={size} initialScreen={initialScreen} />,
    {
      exitOnCtrlC: false,
      patchConsole: true,
      incrementalRendering: true,
      maxFps: 20,
      onRender: ({ renderTime }) => {
        renders++;
        renderMs += renderTime;
      },
    },
  );
  // Garbage collections and their pause, for the same report: the idle cost that is not drawing.
  // Scavenges (young generation) apart from the rest (mark-compact, incremental steps).
  let gcs = 0;
  let gcMs = 0;
  let scavenges = 0;
  let scavengeMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcs++;
      gcMs += entry.duration;
      if (
        (entry as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR
      ) {
        scavenges++;
        scavengeMs += entry.duration;
      }
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const selfReport = setInterval(() => {
    const m = process.memoryUsage();
    ctx.log.info(
      {
        renders,
        renderMs: Math.round(renderMs),
        gcs,
        gcMs: Math.round(gcMs),
        scavenges,
        scavengeMs: Math.round(scavengeMs),
        rssMb: Math.round(m.rss / 1048576),
        heapMb: Math.round(m.heapUsed / 1048576),
      },
      'console cost, last minute',
    );
    renders = 0;
    renderMs = 0;
    gcs = 0;
    gcMs = 0;
    scavenges = 0;
    scavengeMs = 0;
  }, Number(ctx.env.CADENCE_OPS_SELF_REPORT_MS) || 60_000);
  selfReport.unref();
  // V8 grows the heap lazily while the console idles (about 20 MB a minute here). When the bundle
  // runs with --expose-gc, as its #! line does, a full collection every 2 minutes keeps the idle
  // console about 20 MB smaller. Each costs 25–45 ms: every 30 s that was 0.1 % of a core, and every
  // 2 minutes it measured as small in RSS (100 MB against 116) and 0.1 % less CPU.
  const gc = (globalThis as { gc?: () => void }).gc;
  const stopGc = gc ? everyAligned(120_000, () => gc()) : () => {};

  const onResize = () => {
    // After a resize the terminal may have reflowed what was drawn: clear it and redraw in full.
    safeWrite('\x1b[2J\x1b[H');
    instance.clear();
    size.set({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  };
  stdout.on('resize', onResize);

  let tornDown: Promise<void> | null = null;
  const teardown = (reason: string, error?: unknown): Promise<void> => {
    tornDown ??= (async () => {
      ctx.log.info({ reason }, 'console closing');
      stdout.off('resize', onResize);
      clearInterval(selfReport);
      gcObserver.disconnect();
      stopGc();
      try {
        instance.unmount();
      } catch {}
      safeWrite(LEAVE_ALT_SCREEN + SHOW_CURSOR);
      try {
        if (process.stdin.isTTY) process.stdin.setRawMode(false);
      } catch {}
      if (error) {
        const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`cadence-ops crashed: ${text}\n`);
        ctx.log.fatal({ err: error }, 'console crashed');
      }
      await services.disposeAll();
      try {
        stateDb?.close();
      } catch {}
      await opts.onExit?.();
    })();
    return tornDown;
  };

  const signals: Array<[NodeJS.Signals, number]> = [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ];
  const handlers = signals.map(([signal, code]) => {
    const handler = () => void teardown(signal).then(() => process.exit(code));
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  const onCrash = (err: unknown) => void teardown('crash', err).then(() => process.exit(1));
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  // A test hook: proves that a crash still gives the terminal back (test/e2e-shell.test.ts).
  const crashAfter = Number(ctx.env.CADENCE_OPS_TEST_CRASH_AFTER_MS);
  if (crashAfter > 0) {
    setTimeout(() => {
      throw new Error('test crash requested by CADENCE_OPS_TEST_CRASH_AFTER_MS');
    }, crashAfter);
  }

  try {
    await instance.waitUntilExit();
  } catch (err) {
    await teardown('render error', err);
    return 1;
  }
  await teardown('quit');
  for (const [signal, handler] of handlers) process.off(signal, handler);
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  return 0;
}
