import { redactConfig } from '../../services/config.js';
import { printJson, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops config [--json]

Prints the effective configuration (file, environment overrides and defaults merged), with
secrets such as the webhook URL and headers redacted. Exit 2 when the configuration is invalid.`,
  async run(ctx) {
    const site = ctx.site();
    const redacted = redactConfig(site.loaded.config);
    if (ctx.json) {
      printJson(ctx, {
        siteRoot: site.paths.root,
        file: site.loaded.file,
        envOverrides: site.loaded.envOverrides,
        stateDb: site.stateDbPath,
        config: redacted,
      });
      return 0;
    }
    ctx.stdout.write(
      `# site root: ${site.paths.root}\n# file: ${site.loaded.file ?? '(none: defaults)'}\n` +
        `# environment overrides: ${site.loaded.envOverrides.join(', ') || '(none)'}\n` +
        `# state database: ${site.stateDbPath}\n${JSON.stringify(redacted, null, 2)}\n`,
    );
    return 0;
  },
};
export default verb;
