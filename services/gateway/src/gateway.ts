import type { Server } from 'node:http';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AppDeps } from './application/ports.js';
import type { ArtifactTokenVerifier, TokenVerifier } from '@remotegpu/auth';
import type { EventBus } from '@remotegpu/bus';
import { mountRest } from './rest/index.js';
import { createGraphql } from './graphql/index.js';
import { StatusFanout } from './events/status-fanout.js';
import { startStatusFeed } from './events/status-feed.js';
import { catchUpFromStore, rememberStoredVersions } from './events/status-catch-up.js';
import { registerStatusMetrics } from './events/status.metrics.js';
import { registerServiceStatusMetrics } from './events/service-status.metrics.js';

export interface GatewayLimits {
  /** Largest JSON body (predict images travel base64 in it). */
  jsonBodyBytes: number;
  /** Largest multipart model upload. */
  uploadBytes: number;
}

export interface GraphqlOptions {
  introspection: boolean;
  maxDepth: number;
  maxCost: number;
}

export interface GatewayOptions {
  deps: AppDeps;
  verifier: TokenVerifier;
  /** The artifact endpoint's tokens (replicas downloading their model), distinct from user tokens. */
  artifactTokens: ArtifactTokenVerifier;
  logger: Logger;
  metrics: Registry;
  limits: GatewayLimits;
  graphql: GraphqlOptions;
  /** Where multipart uploads are spooled before the artifact is verified. */
  uploadDir: string;
  /** `/readyz` answers 200 only when this resolves true. */
  ready: () => Promise<boolean>;
  /** Status events for GraphQL subscriptions come from here (the gateway subscribes once, without a group). */
  bus: EventBus;
  httpServer: Server;
}

/** Shared by REST and GraphQL entry points. */
export type GatewayContext = Omit<GatewayOptions, 'httpServer'>;

export interface Gateway {
  app: Express;
  stop(): Promise<void>;
}

/**
 * The gateway: REST compatibility routes under /api/v1, GraphQL at /graphql (HTTP and graphql-ws on the
 * same server), health and metrics. It writes desired state and publishes intents; it never touches a runtime.
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { httpServer, ...ctx } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('etag', false);
  const statusEvents = new StatusFanout();
  registerStatusMetrics(ctx.metrics, statusEvents);
  registerServiceStatusMetrics(ctx.metrics, ctx.deps.store, ctx.logger.child({ component: 'metrics' }));
  const statusFeed = await startStatusFeed(ctx.bus, statusEvents);
  // After a broker reconnect, events may have been missed: re-read the store (DESIGN §2.1). The in-process bus
  // never reconnects.
  const catchUpLog = ctx.logger.child({ component: 'status-feed' });
  const stopCatchUp = ctx.bus.onReconnect(() => {
    catchUpFromStore(ctx.deps.store, statusEvents, catchUpLog).catch((err: unknown) =>
      catchUpLog.warn({ err }, 'catching subscriptions up after a bus reconnect failed'),
    );
  });
  const graphql = await rememberStoredVersions(ctx.deps.store, statusEvents)
    .then(() => createGraphql(ctx, httpServer, statusEvents))
    .catch(async (err: unknown) => {
      stopCatchUp();
      await statusFeed.unsubscribe();
      throw err;
    });
  const logStreams = mountRest(app, ctx, { graphql: graphql.middleware });
  return {
    app,
    async stop() {
      logStreams.closeAll();
      await graphql.stop();
      stopCatchUp();
      await statusFeed.unsubscribe();
      statusEvents.close();
    },
  };
}
