import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { destination, pino } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { hs256Verifier } from '@remotegpu/auth';
import { InProcessBus } from '@remotegpu/bus';
import { errors } from '@remotegpu/core';
import { openSqliteStore } from '@remotegpu/store';
import { ConfigError, loadRouterConfig } from './router.config.js';
import { createRouter } from './router.js';
import { languageOf, sendErrorEnvelope } from './router.errors.js';
import { requestIdOf } from './proxy.headers.js';

/**
 * The router as its own process (distributed mode, DESIGN §2): `/inference/...` plus `/healthz`, `/readyz`
 * and `/metrics` on ROUTER_PORT. Until the NATS adapter exists it follows the store by periodic resync.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadRouterConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  // Synchronous stdout: an async logger's exit flush retries EPIPE forever when the reader of our output is gone.
  const root = pino({ level: config.logLevel }, destination({ dest: 1, sync: true }));
  const logger = root.child({ component: 'router' });
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const store = openSqliteStore({ path: config.storeUrl.replace(/^sqlite:/, '') });
  // Nothing else publishes into a bus of this process; it is here to satisfy the port until NATS exists.
  const bus = new InProcessBus({ logger });
  logger.warn({ resyncIntervalMs: config.resyncIntervalMs }, 'no NATS_URL: the routing table follows the store by periodic resync');

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

  const server = createServer((req, res) => {
    if (req.url?.startsWith('/inference/')) {
      router.handle(req, res);
      return;
    }
    void serveOperational(req, res, { metrics, ready: () => store.ping() });
  });
  // Longer than the usual load balancer idle timeout (60 s), so the balancer closes idle sockets, not us.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  logger.info({ port: config.port, host: config.host }, 'router listening');

  let shuttingDown = false;
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    router
      .stop()
      .then(() => closed)
      .then(() => Promise.all([bus.close(), store.close()]))
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

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

main().catch((err: unknown) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
