import { Router } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { logOf } from './locals.js';

export interface HealthOptions {
  ready: () => Promise<boolean>;
  metrics: Registry;
  logger: Logger;
}

/** Liveness, readiness and Prometheus metrics: the only routes without authentication (DESIGN §3). */
export function healthRoutes({ ready, metrics, logger }: HealthOptions): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    let isReady = false;
    try {
      isReady = await ready();
    } catch (err) {
      logOf(res, logger).warn({ err }, 'readiness check failed');
    }
    res.status(isReady ? 200 : 503).json({ status: isReady ? 'ready' : 'not_ready' });
  });
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.contentType).send(await metrics.metrics());
  });
  return router;
}
