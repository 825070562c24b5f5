import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { hs256Verifier } from '@remotegpu/auth';
import { applyHttpTimeouts } from '@remotegpu/http';
import { connectBus } from '@remotegpu/bus';
import { errors } from '@remotegpu/core';
import { runMain, stdoutLogger } from '@remotegpu/process';
import { openStore } from '@remotegpu/store';
import { loadRouterConfig, type RouterConfig } from './router.config.js';
import { createRouter } from './router.js';
import { languageOf, sendErrorEnvelope } from './router.errors.js';
import { requestIdOf } from './proxy.headers.js';

/**
 * The router as its own process (distributed mode, DESIGN §2): `/inference/...` plus `/healthz`, `/readyz`
 * and `/metrics` on ROUTER_PORT. With NATS_URL its table follows status events (a plain subscription: every
 * router sees every event), is rebuilt from the store at start and after each broker reconnect, and re-read every
 * 30 s; without NATS_URL it follows the store alone by a resync every 2 s.
 */
await runMain<RouterConfig>({
  loadConfig: () => loadRouterConfig(),
  logger: (config) => stdoutLogger(config.logLevel, { component: 'router' }),
  shutdownGraceMs: (config) => config.shutdownGraceMs,
  async start({ config, logger, started }) {
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const store = await openStore(config.storeUrl);
    started('store', { stop: () => store.close() });
    const bus = await connectBus({ natsUrl: config.natsUrl, logger: logger.child({ component: 'bus' }), connectionName: 'router', nats: config.natsNaming });
    started('bus', { stop: () => bus.close() });
    if (config.natsUrl === undefined) {
      // Nothing publishes into this process's in-process bus: the store is the only source.
      logger.warn({ resyncIntervalMs: config.resyncIntervalMs }, 'no NATS_URL: the routing table follows the store by periodic resync');
    }

    const router = createRouter({
      store,
      bus,
      verifier: hs256Verifier(config.jwtSecret),
      logger,
      metrics,
      publicUrl: config.publicUrl,
      requestTimeoutMs: config.requestTimeoutMs,
      maxInFlightPerReplica: config.maxInFlightPerReplica,
      maxQueuePerService: config.maxQueuePerService,
      queueBudgetMs: config.queueBudgetMs,
      ejectAfterFailures: config.ejectAfterFailures,
      ejectForMs: config.ejectForMs,
      maxBodyBytes: config.maxBodyBytes,
      resyncIntervalMs: config.resyncIntervalMs,
    });
    await router.start();
    started('router', router);

    const server = createServer((req, res) => {
      if (req.url?.startsWith('/inference/')) {
        router.handle(req, res);
        return;
      }
      // Ready = can route what changes: the store answers (table rebuilds, misses) and the bus delivers events.
      void serveOperational(req, res, { metrics, ready: async () => bus.isReady() && (await store.ping()) });
    });
    // Slow clients get 408 within seconds; keep-alive outlasts load balancers' 60 s (@remotegpu/http).
    applyHttpTimeouts(server, config.httpTimeouts);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    started('http', {
      stop: () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        return closed;
      },
    });
    logger.info({ port: (server.address() as AddressInfo).port, host: config.host }, 'router listening');
  },
});

async function serveOperational(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { metrics: Registry; ready: () => Promise<boolean> },
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
  if (req.method === 'GET' && path === '/readyz') {
    const ready = await deps.ready().catch(() => false);
    return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
  }
  if (req.method === 'GET' && path === '/metrics') {
    const text = await deps.metrics.metrics();
    res.writeHead(200, { 'content-type': deps.metrics.contentType });
    res.end(text);
    return;
  }
  sendErrorEnvelope(res, errors.routeNotFound(path.slice(0, 200)), languageOf(req.headers['accept-language']), requestIdOf(req.headers));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
