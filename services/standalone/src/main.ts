import { runMain, stdoutLogger } from '@remotegpu/process';
import { loadConfig, type StandaloneConfig } from './config.js';
import { startPlatform } from './platform.js';

/** `npm start`: the whole platform in one process on embedded defaults (DESIGN §2 "standalone"). */
await runMain<StandaloneConfig>({
  loadConfig: () => loadConfig(),
  logger: (config) => stdoutLogger(config.logLevel),
  shutdownGraceMs: (config) => config.shutdownGraceMs,
  async start({ config, logger, started }) {
    const platform = await startPlatform(config, logger);
    started('platform', platform);
    logger.child({ component: 'standalone' }).info({ url: platform.url, dataDir: config.dataDir }, 'RemoteGPU Inference is listening');
    if (!config.jwtSecret) {
      // Standalone convenience (DESIGN §5): an admin token for the generated secret, valid 30 days.
      process.stdout.write(
        `\nRemoteGPU Inference is running at ${platform.url}\n` +
          `Admin token (valid 30 days; more with \`npm run token\`):\n\n  ${platform.adminToken}\n\n` +
          `Try: curl -H "Authorization: Bearer <token>" ${platform.url}/api/v1/inference/services\n\n`,
      );
    }
  },
});
