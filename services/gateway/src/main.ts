import { Registry, collectDefaultMetrics } from 'prom-client';
import { artifactTokenVerifier, hs256Verifier } from '@remotegpu/auth';
import { connectBus } from '@remotegpu/bus';
import { runMain, stdoutLogger } from '@remotegpu/process';
import { openStore } from '@remotegpu/store';
import { createRouterPredictor } from './data-plane/router.predictor.js';
import { loadGatewayConfig, type GatewayConfig } from './gateway.config.js';
import { startGatewayServer } from './gateway.server.js';
import { provisionerLogSource } from './data-plane/provisioner-logs.client.js';

/**
 * The gateway as its own process (distributed mode, DESIGN §2.1): REST, GraphQL and graphql-ws on PORT; desired
 * state to the shared store, intents to NATS, status events from NATS to subscribers (a plain subscription: every
 * gateway sees every event, each serves its own sockets), and REST/GraphQL predict to the router over HTTP.
 * It never touches a runtime. Run any number of them.
 */
await runMain<GatewayConfig>({
  loadConfig: () => loadGatewayConfig(),
  logger: (config) => stdoutLogger(config.logLevel, { service: 'gateway' }),
  shutdownGraceMs: (config) => config.shutdownGraceMs,
  async start({ config, logger, started }) {
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const store = await openStore(config.storeUrl);
    started('store', { stop: () => store.close() });
    const bus = await connectBus({ natsUrl: config.natsUrl, logger: logger.child({ component: 'bus' }), connectionName: 'gateway', nats: config.natsNaming });
    started('bus', { stop: () => bus.close() });
    const predictor = createRouterPredictor({
      routerUrl: config.routerUrl,
      timeoutMs: config.routerCallTimeoutMs,
      connectTimeoutMs: config.routerConnectTimeoutMs,
      logger: logger.child({ component: 'router-client' }),
    });
    started('router client', { stop: async () => predictor.close() });

    const server = await startGatewayServer({
      settings: config,
      store,
      bus,
      verifier: hs256Verifier(config.jwtSecret),
      artifactTokens: artifactTokenVerifier(config.artifactSecret ?? config.jwtSecret),
      predictor,
      // Replica logs live with the provisioners' runtime: read through their internal endpoint when configured.
      ...(config.provisionerUrls.length > 0
        ? {
            logs: provisionerLogSource({
              urls: config.provisionerUrls,
              secret: config.artifactSecret ?? config.jwtSecret,
              logger: logger.child({ component: 'provisioner-logs' }),
            }),
          }
        : {}),
      logger,
      metrics,
      // Ready = the control plane works: the store answers and the bus carries intents and status events. The
      // router is not part of it: while it is away only predict fails (503 + Retry-After), and taking every
      // gateway out of rotation for that would stop create, list and stop as well.
      ready: async () => bus.isReady() && (await store.ping()),
    });
    started('http', server);
    logger.info({ url: server.url, port: server.port, routerUrl: config.routerUrl, publicUrl: config.publicUrl }, 'gateway listening');
  },
});
