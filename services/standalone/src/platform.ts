import { createServer, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { openSqliteStore, type Store } from '@remotegpu/store';
import { InProcessBus, type EventBus } from '@remotegpu/bus';
import {
  createGateway,
  hs256Verifier,
  noReplicaPredictor,
  ArtifactIngestor,
  signToken,
  type AppDeps,
  type IntentPublisher,
} from '@remotegpu/gateway';
import type { StandaloneConfig } from './config.js';
import { loadOrCreateSecret } from './secret.js';

export interface RunningPlatform {
  url: string;
  port: number;
  secret: string;
  /** An admin token, printed at start when the secret was generated here (standalone convenience). */
  adminToken: string;
  store: Store;
  bus: EventBus;
  stop(): Promise<void>;
}

/**
 * Intents wake the provisioner; until it exists (next issue) nothing listens, and services stay
 * `creating`. The provisioner re-reads the Store on start, so nothing published here is needed later.
 */
const noListenerIntents: IntentPublisher = { async publish() {} };

/** The composition root of `npm start`: gateway (+ later provisioner and router) over embedded adapters. */
export async function startPlatform(config: StandaloneConfig, logger: Logger = pino({ level: config.logLevel })): Promise<RunningPlatform> {
  await mkdir(config.dataDir, { recursive: true });
  const uploadDir = path.join(config.dataDir, 'uploads');
  await mkdir(uploadDir, { recursive: true });
  const secret = config.jwtSecret ?? (await loadOrCreateSecret(config.dataDir)).secret;

  const store = openSqliteStore({ path: config.storeUrl.replace(/^sqlite:/, '') });
  const bus = new InProcessBus({ logger: logger.child({ component: 'bus' }) });
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  const httpServer: Server = createServer();
  // The public URL depends on the bound port when PORT=0 (tests): resolve it lazily.
  const deps: AppDeps = {
    store,
    artifacts: new ArtifactIngestor({
      dataDir: config.dataDir,
      artifactRoots: config.artifactRoots,
      maxArtifactBytes: config.artifactMaxBytes,
      fetchTimeoutMs: config.artifactFetchTimeoutMs,
      allowPrivateHosts: config.artifactAllowPrivateHosts,
    }),
    predictor: noReplicaPredictor,
    intents: noListenerIntents,
    publicUrl: config.publicUrl ?? `http://localhost:${config.port}`,
    now: () => new Date(),
  };
  const gateway = await createGateway({
    deps,
    verifier: hs256Verifier(secret),
    logger: logger.child({ component: 'gateway' }),
    metrics,
    limits: { jsonBodyBytes: config.maxBodyBytes, uploadBytes: config.artifactMaxBytes },
    graphql: config.graphql,
    uploadDir,
    ready: () => store.ping(),
    bus,
    httpServer,
  });
  httpServer.on('request', gateway.app);
  httpServer.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  if (!config.publicUrl) deps.publicUrl = `http://localhost:${port}`;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const adminToken = await signToken(secret, { sub: 'admin', admin: true, ttlSeconds: 30 * 86400 });

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    secret,
    adminToken,
    store,
    bus,
    stop() {
      // Reverse order of start: stop taking requests (Apollo's drain plugin waits for in-flight ones), then the store.
      stopping ??= (async () => {
        await gateway.stop();
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeAllConnections();
        await bus.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
