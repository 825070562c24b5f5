import { Command, CommanderError } from 'commander';
import { ApiError } from './api.client.js';
import { UsageError } from './context.js';
import { loginCommand } from './login.command.js';
import { modelsCommands } from './models.commands.js';
import { servicesCommands } from './services.commands.js';
import { intOption } from './context.js';

const VERSION = '0.1.0';

export const EXIT = { ok: 0, api: 1, usage: 2 } as const;

export function buildProgram(): Command {
  const program = new Command('rgpu')
    .description('Command line for RemoteGPU Inference: models, inference services, predictions, logs')
    .option('--url <url>', 'platform URL (env RGPU_URL, else the config file)')
    .option('--token <jwt>', 'bearer token (env RGPU_TOKEN, else the config file)')
    .option('--workspace <id>', 'workspace id (env RGPU_WORKSPACE, else login\'s, else the token\'s only one)', intOption('--workspace', 1))
    .option('--lang <zh|en>', 'language of the API\'s messages (default from LANG)')
    .option('--json', 'print the API\'s data as JSON for scripts')
    // Usage errors exit 2 (commander's default is 1, which here means "the API refused").
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\n`rgpu --version` prints the version.\nExit codes: 0 ok, 1 the API refused (its message is printed), 2 usage.');
  loginCommand(program);
  modelsCommands(program);
  servicesCommands(program);
  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit, so pending output is flushed. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Not commander's .version(): its program-wide --version would swallow `models upload --version v1`.
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help / --version end through here with exit code 0; parse errors were already printed by commander.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ApiError) {
      const status = err.status ? ` (HTTP ${err.status}${err.code ? `, code ${err.code}` : ''})` : '';
      process.stderr.write(`error: ${err.message}${status}\n`);
      for (const f of err.fields) process.stderr.write(`  ${f.field}: ${f.message}\n`);
      return EXIT.api;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.api;
  }
}
