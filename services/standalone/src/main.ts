import { destination, pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { startPlatform } from './platform.js';

/** `npm start`: the whole platform in one process on embedded defaults (DESIGN §2 "standalone"). */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  // Synchronous stdout: an async logger's exit flush retries EPIPE forever when the reader of our output is gone.
  const root = pino({ level: config.logLevel }, destination({ dest: 1, sync: true }));
  const logger = root.child({ component: 'standalone' });
  const platform = await startPlatform(config, root);
  logger.info({ url: platform.url, dataDir: config.dataDir }, 'RemoteGPU Inference is listening');
  if (!config.jwtSecret) {
    // Standalone convenience (DESIGN §5): an admin token for the generated secret, valid 30 days.
    process.stdout.write(
      `\nRemoteGPU Inference is running at ${platform.url}\n` +
        `Admin token (valid 30 days; more with \`npm run token\`):\n\n  ${platform.adminToken}\n\n` +
        `Try: curl -H "Authorization: Bearer <token>" ${platform.url}/api/v1/inference/services\n\n`,
    );
  }

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    platform.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
