import type { RequestHandler } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import { routePatternOf } from './route-pattern.js';

const LABELS = ['method', 'route', 'status'] as const;
type Label = (typeof LABELS)[number];

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Reuses a metric already on the registry, so composing a second gateway on one registry does not throw. */
function counter(registry: Registry): Counter<Label> {
  const existing = registry.getSingleMetric('http_requests_total');
  if (existing) return existing as Counter<Label>;
  return new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route pattern', labelNames: LABELS, registers: [registry] });
}

function histogram(registry: Registry): Histogram<Label> {
  const existing = registry.getSingleMetric('http_request_duration_seconds');
  if (existing) return existing as Histogram<Label>;
  return new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route pattern',
    labelNames: LABELS,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
}

/** `http_requests_total` and `http_request_duration_seconds`, labelled by method, route pattern and status. */
export function httpMetrics(registry: Registry): RequestHandler {
  const requests = counter(registry);
  const duration = histogram(registry);
  return (req, res, next) => {
    const stopTimer = duration.startTimer();
    res.once('close', () => {
      const labels = {
        method: KNOWN_METHODS.has(req.method) ? req.method : 'OTHER',
        route: routePatternOf(req, res),
        status: String(res.statusCode),
      };
      requests.inc(labels);
      stopTimer(labels);
    });
    next();
  };
}
