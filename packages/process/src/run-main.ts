import type { Logger } from 'pino';
import { EXIT_CONFIG, isConfigError, type ConfigError } from '@remotegpu/core';

/** Something `main` started and must stop on the way out. */
export interface Stoppable {
  stop(): Promise<void>;
}

export interface MainContext<C> {
  config: C;
  logger: Logger;
  /**
   * Records a started component. On shutdown components stop in reverse order of registration: the last one
   * started (usually the HTTP server) stops first, the store everything wrote to last.
   */
  started(name: string, component: Stoppable): void;
  /** Begins the graceful shutdown (what SIGTERM does), e.g. when the parent that supervises us went away. */
  shutdown(why: string): void;
  /** True once a shutdown began: a long start may check it and return early. */
  readonly stopping: boolean;
}

export interface MainOptions<C> {
  /** Parses the environment; throws a ConfigError naming every bad variable. */
  loadConfig(): C;
  logger(config: C): Logger;
  /** How long a graceful stop may take before the process exits 1 anyway. */
  shutdownGraceMs(config: C): number;
  start(context: MainContext<C>): Promise<void>;
  /** Extra reporting of a configuration the process can never run with (the model server's stdout protocol). */
  onConfigError?(error: ConfigError): void;
}

type ExitCode = 0 | 1 | typeof EXIT_CONFIG;

/**
 * The one lifecycle of every entry point (`node services/<x>/dist/main.js`, `npm start`):
 *  - a bad configuration prints every problem, by variable, to stderr and exits 78 before anything opens;
 *  - SIGTERM and SIGINT stop the registered components in reverse order and exit 0, or 1 when a stop failed or
 *    the grace period ran out; during start too, without waiting for the start to finish;
 *  - a start that fails stops what it had started and exits 1 (78 when the failure is a ConfigError, e.g. a
 *    model the replica can never load).
 */
export async function runMain<C>(options: MainOptions<C>): Promise<void> {
  let config: C;
  try {
    config = options.loadConfig();
  } catch (err) {
    if (!isConfigError(err)) return fatal(`failed to start: ${messageOf(err)}`, 1);
    reportConfigError(err, options);
    return exit(EXIT_CONFIG);
  }
  const logger = options.logger(config);
  const components: { name: string; component: Stoppable }[] = [];
  let stopping: Promise<void> | undefined;

  const stopAll = async (): Promise<ExitCode> => {
    let code: ExitCode = 0;
    // Taken one by one from the end, so a component registered while earlier ones stop is stopped too.
    for (let entry = components.pop(); entry !== undefined; entry = components.pop()) {
      try {
        await entry.component.stop();
        logger.debug({ component: entry.name }, 'stopped');
      } catch (err) {
        code = 1;
        logger.error({ err, component: entry.name }, 'error while stopping');
      }
    }
    return code;
  };

  // Also during start: Ctrl-C while a model loads stops what is up and exits, without waiting for the rest.
  const shutdown = (why: string, exitCode: ExitCode = 0): void => {
    if (stopping) return;
    logger.info({ why }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ graceMs: options.shutdownGraceMs(config) }, 'graceful shutdown timed out; exiting');
      exit(1);
    }, options.shutdownGraceMs(config));
    force.unref();
    stopping = stopAll().then((code) => {
      logger.info('stopped');
      exit(code === 0 ? exitCode : code);
    });
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => shutdown(signal));

  const context: MainContext<C> = {
    config,
    logger,
    // A component registered while a shutdown is under way is still stopped: stopAll() pops until empty.
    started: (name, component) => void components.push({ name, component }),
    shutdown: (why) => shutdown(why),
    get stopping() {
      return stopping !== undefined;
    },
  };
  try {
    await options.start(context);
  } catch (err) {
    if (stopping) return; // the shutdown under way (which may be why start failed) decides the exit code
    const configProblem = isConfigError(err);
    if (configProblem) reportConfigError(err, options);
    logger.fatal({ err }, 'failed to start');
    shutdown('failed to start', configProblem ? EXIT_CONFIG : 1);
  }
}

function reportConfigError<C>(err: ConfigError, options: MainOptions<C>): void {
  process.stderr.write(`${err.message}\n`);
  options.onConfigError?.(err);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function fatal(message: string, code: ExitCode): void {
  process.stderr.write(`${message}\n`);
  exit(code);
}

function exit(code: ExitCode): void {
  process.exit(code);
}
