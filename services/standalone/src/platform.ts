import { createServer, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { openStore, type Store } from '@remotegpu/store';
import { connectBus, type EventBus } from '@remotegpu/bus';
import { createRuntime, type LocalRuntimeOptions, type Runtime } from '@remotegpu/runtime';
import { Provisioner } from '@remotegpu/provisioner';
import { createRouter } from '@remotegpu/router';
import { applyHttpTimeouts } from '@remotegpu/http';
import {
  createGateway,
  bestEffortIntents,
  busIntentPublisher,
  hs256Verifier,
  ArtifactIngestor,
  signToken,
  type AppDeps,
} from '@remotegpu/gateway';
import type { StandaloneConfig } from './config.js';
import { loadOrCreateSecret } from './secret.js';
import { modelServerEntry } from './model-server-entry.js';

export interface RunningPlatform {
  url: string;
  port: number;
  secret: string;
  /** An admin token, printed at start when the secret was generated here (standalone convenience). */
  adminToken: string;
  store: Store;
  bus: EventBus;
  runtime: Runtime;
  provisioner: Provisioner;
  stop(): Promise<void>;
}

export interface PlatformOverrides {
  /** Test knobs for the local runtime (fast backoff); production uses the runtime's defaults. */
  runtime?: Partial<Pick<LocalRuntimeOptions, 'backoff' | 'gracePeriodMs' | 'readinessTimeoutMs' | 'crashLoopLimit'>>;
  resyncIntervalMs?: number;
}

/**
 * The composition root of `npm start` (DESIGN §2 "standalone"): gateway, provisioner and router in one
 * process over the embedded adapters — SQLite store, in-process bus, local runtime. Distributed mode wires
 * the same components to other adapters.
 */
export async function startPlatform(
  config: StandaloneConfig,
  logger: Logger = pino({ level: config.logLevel }),
  overrides: PlatformOverrides = {},
): Promise<RunningPlatform> {
  await mkdir(config.dataDir, { recursive: true });
  const uploadDir = path.join(config.dataDir, 'uploads');
  await mkdir(uploadDir, { recursive: true });
  const secret = config.jwtSecret ?? (await loadOrCreateSecret(config.dataDir)).secret;
  const verifier = hs256Verifier(secret);

  // Adapters are chosen by configuration here, at the edge (DESIGN §2); nothing below knows which it got.
  const store = await openStore(config.storeUrl);
  const bus = await connectBus({ natsUrl: config.natsUrl, logger: logger.child({ component: 'bus' }) });
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  // Start order: runtime (kills orphans of a crashed predecessor) → router (table from the store) →
  // provisioner (its first resync brings wanted services back) → HTTP. Stop runs it backwards.
  const runtime = createRuntime(
    config.runtime === 'local'
      ? {
          kind: 'local',
          local: {
            modelServer: { command: process.execPath, args: [modelServerEntry()] },
            stateDir: path.join(config.dataDir, 'runtime'),
            gpus: config.localGpus,
            logger: logger.child({ component: 'runtime' }),
            ...overrides.runtime,
          },
        }
      : { kind: config.runtime },
  );
  await runtime.start();
  const router = createRouter({
    store,
    bus,
    verifier,
    logger: logger.child({ component: 'router' }),
    metrics,
    publicUrl: config.publicUrl,
    maxBodyBytes: config.maxBodyBytes,
    queueBudgetMs: config.queueBudgetMs,
  });
  await router.start();
  const provisioner = new Provisioner({
    store,
    bus,
    runtime,
    logger: logger.child({ component: 'provisioner' }),
    ...(overrides.resyncIntervalMs ? { resyncIntervalMs: overrides.resyncIntervalMs } : {}),
  });
  await provisioner.start();

  const intents = bestEffortIntents(busIntentPublisher(bus), logger.child({ component: 'intents' }));

  const httpServer: Server = createServer();
  const deps: AppDeps = {
    store,
    artifacts: new ArtifactIngestor({
      dataDir: config.dataDir,
      artifactRoots: config.artifactRoots,
      maxArtifactBytes: config.artifactMaxBytes,
      fetchTimeoutMs: config.artifactFetchTimeoutMs,
      allowPrivateHosts: config.artifactAllowPrivateHosts,
    }),
    predictor: router.predictor,
    intents,
    // The public URL depends on the bound port when PORT=0 (tests): fixed up after listen.
    publicUrl: config.publicUrl ?? `http://localhost:${config.port}`,
    now: () => new Date(),
  };
  const gateway = await createGateway({
    deps,
    verifier,
    logger: logger.child({ component: 'gateway' }),
    metrics,
    limits: { jsonBodyBytes: config.maxBodyBytes, uploadBytes: config.artifactMaxBytes },
    graphql: config.graphql,
    uploadDir,
    ready: () => store.ping(),
    bus,
    httpServer,
  });
  // The data plane skips Express entirely: its hot path is the router's own handler.
  httpServer.on('request', (req, res) => {
    if (req.url !== undefined && req.url.startsWith('/inference/')) router.handle(req, res);
    else gateway.app(req, res);
  });
  // Slow clients get 408 within seconds, yet a big upload over a slow link is never cut (@remotegpu/http).
  applyHttpTimeouts(httpServer, config.httpTimeouts);

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
    runtime,
    provisioner,
    stop() {
      stopping ??= (async () => {
        // Stop taking requests first (Apollo's drain plugin waits for in-flight ones), then the control loop,
        // the data plane, the replicas (no orphans), and last the bus and the store they all write to.
        await gateway.stop();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeIdleConnections();
        });
        httpServer.closeAllConnections();
        await provisioner.stop();
        await router.stop();
        await runtime.stop();
        await bus.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
