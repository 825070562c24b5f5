import { Router, type Express, type RequestHandler } from 'express';
import type { GatewayContext } from '../gateway.js';
import { authenticate } from '../http/auth.middleware.js';
import { errorHandler, notFoundHandler } from '../http/error-envelope.js';
import { healthRoutes } from '../http/health.routes.js';
import { jsonBody } from '../http/json-body.middleware.js';
import { httpMetrics } from '../http/metrics.middleware.js';
import { requestContext } from '../http/request-context.middleware.js';
import { methodNotAllowed } from '../http/method-not-allowed.js';
import { recordRouteBase, tagRoute } from '../http/route-pattern.js';
import { consoleRoutes } from '../console/console.routes.js';
import { docsPages, graphqlExplorer, openApiDocument } from '../openapi/docs.routes.js';
import { buildOpenApiDocument } from '../openapi/openapi.document.js';
import { artifactRoutes } from './artifact.routes.js';
import { modelRoutes } from './model.routes.js';
import { serviceRoutes } from './service.routes.js';
import { LogStreams, logsRoutes } from './logs.routes.js';

export interface RestExtras {
  graphql: RequestHandler | RequestHandler[];
}

/**
 * Installs the HTTP surface in order: request id + access log, metrics, the three unauthenticated
 * probes, GraphQL, the authenticated /api/v1 routes, then the 404 and the one error mapper.
 */
export function mountRest(app: Express, ctx: GatewayContext, extra: RestExtras): LogStreams {
  const logStreams = new LogStreams();
  app.use(requestContext(ctx.logger));
  app.use(httpMetrics(ctx.metrics));
  app.use(healthRoutes({ ready: ctx.ready, metrics: ctx.metrics, logger: ctx.logger }));
  // A browser opening /graphql gets the offline explorer; GraphQL requests go on to Apollo.
  app.use('/graphql', tagRoute('/graphql'), graphqlExplorer(), ...(Array.isArray(extra.graphql) ? extra.graphql : [extra.graphql]));
  app.get('/', apiIndex);
  // The API's description and its reference page: no token, they hold no tenant data (README "API reference").
  // Built at the first request: the public URL may be known only once the server listens (PORT=0).
  app.get('/api/v1/openapi.json', openApiDocument(() => buildOpenApiDocument({ publicUrl: ctx.deps.publicUrl, version: API_VERSION })));
  app.use('/docs', tagRoute('/docs'), docsPages());
  // The console's static files (no data in them, so no token; its API calls carry one).
  app.use(consoleRoutes());
  // Before the user routes: it takes artifact tokens only (replicas), and user tokens open nothing there.
  app.use('/api/v1/artifacts', artifactRoutes({ store: ctx.deps.store, tokens: ctx.artifactTokens, logger: ctx.logger }));
  app.use('/api/v1', apiV1(ctx, logStreams));
  app.use(methodNotAllowed(app.router));
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  // Follow streams (replica logs) hold their response open: the gateway's stop ends them.
  return logStreams;
}

/**
 * `GET /`: where a newcomer (or a browser) lands. Like the probes it needs no token: it names the entry points
 * and nothing else — no version, no workspace, no object — so it tells an anonymous caller nothing the README
 * does not.
 */
const apiIndex: RequestHandler = (_req, res) => {
  res.status(200).json({
    name: 'RemoteGPU Inference',
    links: {
      rest: '/api/v1',
      graphql: '/graphql',
      data_plane: '/inference/{service_id}',
      health: '/healthz',
      readiness: '/readyz',
      metrics: '/metrics',
      openapi: '/api/v1/openapi.json',
      docs: '/docs',
    },
  });
};

/** The API's version in the OpenAPI document: the gateway package's. */
const API_VERSION = '0.1.0';

function apiV1(ctx: GatewayContext, logStreams: LogStreams): Router {
  const api = Router();
  api.use(recordRouteBase);
  // Authentication comes before the body is read, so an anonymous caller cannot make us parse megabytes.
  api.use(authenticate(ctx.verifier));
  api.use(jsonBody(ctx.limits.jsonBodyBytes));
  api.get('/', (_req, res) => {
    res.status(200).json({ links: { inference_services: '/api/v1/inference/services', models: '/api/v1/models' } });
  });
  api.use(serviceRoutes(ctx.deps));
  api.use(logsRoutes(ctx.deps, logStreams));
  api.use(
    modelRoutes(ctx.deps, {
      uploadDir: ctx.uploadDir,
      limits: { uploadBytes: ctx.limits.uploadBytes, fieldBytes: Math.min(ctx.limits.jsonBodyBytes, 8 * 1024 * 1024) },
    }),
  );
  api.use(methodNotAllowed(api));
  return api;
}
