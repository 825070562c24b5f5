import type { Logger } from 'pino';
import { ConfigError, loadConfig, type ModelServerConfig } from './server.config.js';
import { createLogger } from './logger.js';
import { loadModel, ModelLoadError, type LoadedModel } from './model.session.js';
import { configureSharp } from './image.preprocess.js';
import { setUpClassifier } from './image.classifier.js';
import { ModelHttpServer } from './http.server.js';
import { createRequestHandler } from './http.routes.js';
import { EXIT_CONFIG, listeningLine, failedLine } from './stdout.protocol.js';

/**
 * One replica: load the model once, serve it over HTTP, print the `listening` line, drain on SIGTERM/SIGINT (or
 * when stdin ends, if asked: the parent runtime died). A configuration or model the process can never serve
 * exits 78 (EX_CONFIG) with every problem named, so a supervisor need not restart it in a loop.
 */
let logger: Logger = createLogger();
let stopping = false;
let server: ModelHttpServer | null = null;
let model: LoadedModel | null = null;

process.stdout.on('error', () => {}); // a reader that went away must not crash the replica

function failConfig(problems: string[]): never {
  logger.fatal({ problems }, `invalid configuration: ${problems.join('; ')}`);
  process.stdout.write(failedLine(EXIT_CONFIG, problems.join('; ')));
  process.exit(EXIT_CONFIG);
}

async function shutdown(why: string, drainTimeoutMs: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (server) {
    logger.info({ why, inFlight: server.inFlightCount }, 'draining');
    const outcome = await server.drain(drainTimeoutMs);
    logger.info({ outcome, inFlight: server.inFlightCount }, 'stopped');
  } else logger.info({ why }, 'stopped before serving');
  await model?.session.release().catch(() => {});
  process.exit(0);
}

async function main(): Promise<void> {
  let config: ModelServerConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) failConfig(err.problems);
    throw err;
  }
  logger = createLogger(config.logLevel).child({ model: config.modelName, version: config.modelVersion });
  const drainTimeoutMs = config.drainTimeoutMs;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown(signal, drainTimeoutMs));
  if (config.exitOnStdinClose) {
    process.stdin.on('error', () => {});
    process.stdin.once('end', () => void shutdown('stdin closed', drainTimeoutMs));
    process.stdin.resume();
  }

  configureSharp();
  try {
    model = await loadModel({ path: config.modelPath, device: config.device, gpuAssigned: config.gpuAssigned, intraOpThreads: config.intraOpThreads, logger });
  } catch (err) {
    if (err instanceof ModelLoadError) failConfig([`RGPU_MODEL_PATH: ${err.message}`]);
    throw err;
  }
  // Core's imageClassifierSignature, the rule the gateway applied at upload: labels or preprocessing that do not fit exit 78.
  const { classifier, configProblems } = setUpClassifier(model, config.labels, config.preprocessing);
  if (configProblems.length) failConfig(configProblems);
  if (classifier.unsupportedReason) logger.warn({ reason: classifier.unsupportedReason }, 'predict is unavailable; OIP infer serves the model');
  if (stopping) return; // a signal arrived while the model was loading

  const loaded = model;
  server = new ModelHttpServer((s) =>
    createRequestHandler({
      model: loaded,
      classifier,
      modelName: config.modelName,
      modelVersion: config.modelVersion,
      maxBodyBytes: config.maxBodyBytes,
      logger,
      isReady: () => s.ready,
      inFlight: () => s.inFlightCount,
    }),
    (err) => logger.error({ err }, 'request handler failed'),
    config.httpTimeouts,
  );
  const port = await server.listen(config.port, config.host);
  logger.info({ port, host: config.host, device: loaded.executionProvider, fallbackReason: loaded.fallbackReason }, 'listening');
  process.stdout.write(listeningLine(port, loaded.executionProvider));
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'model server failed to start');
  process.exit(1);
});
