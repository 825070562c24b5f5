import { batchingProblem, ConfigError } from '@remotegpu/core';
import { runMain } from '@remotegpu/process';
import { loadConfig, type ModelServerConfig } from './server.config.js';
import { createLogger } from './logger.js';
import { ModelLoadError, type LoadedModel } from './model.session.js';
import { loadModelInWorker } from './session.worker-client.js';
import { configureSharp } from './image.preprocess.js';
import { setUpClassifier } from './image.classifier.js';
import { InferencePipeline } from './inference.pipeline.js';

import { ModelHttpServer } from './http.server.js';
import { createRequestHandler } from './http.routes.js';
import { EXIT_CONFIG, listeningLine, failedLine } from './stdout.protocol.js';
import { ArtifactFetchError, obtainArtifact, type FailureCause } from './artifact.fetch.js';
import { reportFailure } from './failure.report.js';

/**
 * One replica: load the model once, serve it over HTTP, print the `listening` line, drain on SIGTERM/SIGINT (or
 * when stdin ends, if asked: the parent runtime died). A configuration or model the process can never serve
 * exits 78 (EX_CONFIG) with every problem named, so a supervisor need not restart it in a loop.
 */
process.stdout.on('error', () => {}); // a reader that went away must not crash the replica

/** Past the drain timeout the drain gives up on its own; this margin only covers releasing the session. */
const RELEASE_MARGIN_MS = 5_000;

await runMain<ModelServerConfig>({
  loadConfig: () => loadConfig(process.env),
  logger: (config) => createLogger(config.logLevel).child({ model: config.modelName, version: config.modelVersion }),
  shutdownGraceMs: (config) => config.drainTimeoutMs + RELEASE_MARGIN_MS,
  // The local runtime reads why a replica can never start from its one stdout line (stdout.protocol.ts).
  onConfigError: (err) => reportFailure(failedLine(EXIT_CONFIG, err.problems.join('; '), failureOf(err))),
  async start({ config, logger, started, shutdown }) {
    if (config.exitOnStdinClose) {
      process.stdin.on('error', () => {});
      process.stdin.once('end', () => shutdown('stdin closed'));
      process.stdin.resume();
    }

    configureSharp();
    const source = config.modelSource;
    if (source.kind === 'uri') {
      try {
        await obtainArtifact(source, logger);
      } catch (err) {
        // Exit 1, not 78: a later start may download it. Said on the stdout protocol like a configuration problem.
        if (err instanceof ArtifactFetchError) reportFailure(failedLine(1, err.message, err.failure));
        throw err;
      }
    }
    let model: LoadedModel;
    try {
      model = await loadModelInWorker(
        { path: config.modelPath, device: config.device, gpuAssigned: config.gpuAssigned, intraOpThreads: config.intraOpThreads, logger },
        // No model runs any more: stop taking requests (the drain answers the ones admitted with errors) and exit.
        (err) => {
          logger.fatal({ err }, 'the onnxruntime worker died');
          process.exitCode = 1;
          shutdown('onnxruntime worker died');
        },
      );
    } catch (err) {
      if (err instanceof ModelLoadError) throw new ConfigError([`${source.kind === 'uri' ? 'RGPU_MODEL_URI' : 'RGPU_MODEL_PATH'}: ${err.message}`]);
      throw err;
    }
    started('model', { stop: () => model.session.release().catch(() => {}) });
    // Core's imageClassifierSignature, the rule the gateway applied at upload: labels or preprocessing that do not fit exit 78.
    const { classifier, configProblems } = setUpClassifier(model, config.labels, config.preprocessing);
    if (configProblems.length) throw new ConfigError(configProblems);
    // A model whose batch dimension is fixed at 1 can never take a batch: a configuration error, like bad labels.
    const refusal = batchingProblem(config.batching, classifier.batchDimension ?? (model.inputs.every((s) => s.shape[0] === -1) ? 'dynamic' : 'fixed'));
    if (refusal) throw new ConfigError([`RGPU_BATCHING: ${refusal.en}`]);
    const pipeline = new InferencePipeline(model, classifier, config.batching, { model: config.modelName, version: config.modelVersion });
    if (classifier.unsupportedReason) logger.warn({ reason: classifier.unsupportedReason }, 'predict is unavailable; OIP infer serves the model');

    const server = new ModelHttpServer((s) =>
      createRequestHandler({
        model,
        pipeline,
        modelName: config.modelName,
        modelVersion: config.modelVersion,
        maxBodyBytes: config.maxBodyBytes,
        logger,
        isReady: () => s.ready,
        inFlight: () => s.inFlightCount,
      }),
      (err) => logger.error({ err }, 'request handler failed'),
      config.httpTimeouts,
      // On stderr, hence in the replica's logs (GET …/logs): 5xx as errors, a refused request (4xx) as a warning.
      (failed) => (failed.status >= 500 ? logger.error(failed, 'request failed') : logger.warn(failed, 'request refused')),
    );
    const port = await server.listen(config.port, config.host);
    started('http', {
      async stop() {
        logger.info({ inFlight: server.inFlightCount }, 'draining');
        // Queued requests run now instead of waiting for company; each admitted request gets its answer.
        pipeline.drain();
        const outcome = await server.drain(config.drainTimeoutMs);
        logger.info({ outcome, inFlight: server.inFlightCount }, 'drained');
      },
    });
    logger.info({ port, host: config.host, batching: config.batching, intraOpThreads: config.intraOpThreads, device: model.executionProvider, fallbackReason: model.fallbackReason }, 'listening');
    process.stdout.write(listeningLine(port, model.executionProvider));
  },
});

/** The status reason a configuration problem carries, if any (the artifact's checksum). */
function failureOf(err: unknown): FailureCause | undefined {
  const failure = (err as { failure?: FailureCause }).failure;
  return failure && typeof failure.code === 'string' ? failure : undefined;
}
