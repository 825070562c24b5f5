import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ArtifactTokenVerifier, TokenVerifier } from '@remotegpu/auth';
import type { EventBus } from '@remotegpu/bus';
import { applyHttpTimeouts } from '@remotegpu/http';
import type { Store } from '@remotegpu/store';
import type { AppDeps, Predictor } from './application/ports.js';
import type { ReplicaLogSource } from './application/logs.use-case.js';
import { bestEffortIntents, busIntentPublisher } from './events/bus-intents.js';
import { createGateway } from './gateway.js';
import type { GatewayServerSettings } from './gateway.config.js';
import { ArtifactIngestor } from './models/artifact-ingest.js';

export interface GatewayServerOptions {
  settings: GatewayServerSettings;
  store: Store;
  bus: EventBus;
  verifier: TokenVerifier;
  /** Verifies the artifact tokens replicas download their model with (`artifactTokenVerifier`). */
  artifactTokens: ArtifactTokenVerifier;
  /** The data plane as REST and GraphQL predict reach it: the router in this process, or over HTTP. */
  predictor: Predictor;
  logger: Logger;
  metrics: Registry;
  /** `/readyz` answers 200 only when this resolves true. */
  ready: () => Promise<boolean>;
  /**
   * Requests under `/inference/` (the data plane), when a router runs in this process (standalone). Without it the
   * gateway answers them 404 like any unknown route: `endpoint_url` then points at the routers.
   */
  dataPlane?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Replica logs, when a runtime runs in this process (standalone); without it the logs routes answer 503. */
  logs?: ReplicaLogSource;
}

export interface GatewayServer {
  url: string;
  port: number;
  deps: AppDeps;
  /** The Express app (tests read its router to check the OpenAPI document covers every route). */
  app: Express;
  /** Stops taking requests (Apollo drains in-flight ones), closes the subscription sockets and the HTTP server. */
  stop(): Promise<void>;
}

/**
 * The gateway's HTTP side, as both the standalone process and the gateway's own process run it: REST, GraphQL
 * (HTTP and graphql-ws), health and metrics on one server, intents to the bus, artifacts under the data directory.
 * The caller owns the store, the bus and the predictor, and closes them after `stop()`.
 */
export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  const { settings, logger } = options;
  const uploadDir = path.join(settings.dataDir, 'uploads');
  await mkdir(uploadDir, { recursive: true });
  const httpServer: Server = createServer();
  const deps: AppDeps = {
    store: options.store,
    artifacts: new ArtifactIngestor({
      dataDir: settings.dataDir,
      artifactRoots: settings.artifactRoots,
      maxArtifactBytes: settings.artifactMaxBytes,
      fetchTimeoutMs: settings.artifactFetchTimeoutMs,
      allowPrivateHosts: settings.artifactAllowPrivateHosts,
    }),
    predictor: options.predictor,
    ...(options.logs ? { logs: options.logs } : {}),
    intents: bestEffortIntents(busIntentPublisher(options.bus), logger.child({ component: 'intents' })),
    // The public URL depends on the bound port when PORT=0 (tests): fixed up after listen.
    publicUrl: settings.publicUrl ?? `http://localhost:${settings.port}`,
    now: () => new Date(),
  };
  const gateway = await createGateway({
    deps,
    verifier: options.verifier,
    artifactTokens: options.artifactTokens,
    logger: logger.child({ component: 'gateway' }),
    metrics: options.metrics,
    limits: { jsonBodyBytes: settings.maxBodyBytes, uploadBytes: settings.artifactMaxBytes },
    graphql: settings.graphql,
    uploadDir,
    ready: options.ready,
    bus: options.bus,
    httpServer,
  });
  const dataPlane = options.dataPlane;
  // The data plane skips Express entirely: its hot path is the router's own handler.
  httpServer.on('request', (req, res) => {
    if (dataPlane !== undefined && req.url !== undefined && req.url.startsWith('/inference/')) dataPlane(req, res);
    else gateway.app(req, res);
  });
  // Slow clients get 408 within seconds, yet a big upload over a slow link is never cut (@remotegpu/http).
  applyHttpTimeouts(httpServer, settings.httpTimeouts);

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(settings.port, settings.host, () => resolve());
    });
  } catch (err) {
    await gateway.stop();
    throw err;
  }
  const port = (httpServer.address() as AddressInfo).port;
  if (!settings.publicUrl) deps.publicUrl = `http://localhost:${port}`;
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    deps,
    app: gateway.app,
    stop() {
      stopping ??= (async () => {
        await gateway.stop();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeIdleConnections();
        });
        httpServer.closeAllConnections();
      })();
      return stopping;
    },
  };
}
