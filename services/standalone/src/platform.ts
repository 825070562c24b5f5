import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { openStore, type Store } from '@remotegpu/store';
import { connectBus, type EventBus } from '@remotegpu/bus';
import { createRuntime, type LocalRuntimeOptions, type Runtime } from '@remotegpu/runtime';
import { Provisioner } from '@remotegpu/provisioner';
import { createRouter } from '@remotegpu/router';
import { artifactTokenVerifier, hs256Verifier, signToken, startGatewayServer, type GatewayServer } from '@remotegpu/gateway';
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
  /** The gateway's Express app (the OpenAPI contract test walks its routes). */
  app: GatewayServer['app'];
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
  const secret = config.jwtSecret ?? (await loadOrCreateSecret(config.dataDir)).secret;
  const verifier = hs256Verifier(secret);

  // Adapters are chosen by configuration here, at the edge (DESIGN §2); nothing below knows which it got.
  const store = await openStore(config.storeUrl);
  const bus = await connectBus({ natsUrl: config.natsUrl, logger: logger.child({ component: 'bus' }) });
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  // Start order: runtime (kills orphans of a crashed predecessor) → router (table from the store) →
  // provisioner (its first resync brings wanted services back) → HTTP. Stop runs it backwards.
  // One process runs the local runtime; the kubernetes runtime runs in the provisioner process (config refuses it here).
  if (config.runtime !== 'local') throw new Error(`RGPU_RUNTIME=${config.runtime}: npm start runs the local runtime only`);
  const runtime = createRuntime({
    kind: 'local',
    local: {
      modelServer: { command: process.execPath, args: [modelServerEntry()] },
      stateDir: path.join(config.dataDir, 'runtime'),
      gpus: config.localGpus,
      logger: logger.child({ component: 'runtime' }),
      ...overrides.runtime,
    },
  });
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

  // The gateway's HTTP side as its own process runs it too; here the data plane shares its server and predict
  // calls the router in this process directly.
  const server = await startGatewayServer({
    settings: config,
    store,
    bus,
    verifier,
    // Replicas here read their model from the data directory; the endpoint still answers replicas elsewhere.
    artifactTokens: artifactTokenVerifier(config.artifactSecret ?? secret),
    predictor: router.predictor,
    logger,
    metrics,
    ready: () => store.ping(),
    dataPlane: (req, res) => router.handle(req, res),
    // The runtime is in this process: the logs routes read it directly.
    logs: {
      read: (serviceId, query) => runtime.logs(serviceId, query),
      follow: (serviceId, query, onLine) => runtime.followLogs(serviceId, query, onLine),
    },
  });
  const { url, port } = server;
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
    app: server.app,
    stop() {
      stopping ??= (async () => {
        // Stop taking requests first (Apollo's drain plugin waits for in-flight ones), then the control loop,
        // the data plane, the replicas (no orphans), and last the bus and the store they all write to.
        await server.stop();
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
