import { AsyncLocalStorage } from 'node:async_hooks';
import type { Server } from 'node:http';
import type { RequestHandler } from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Language } from '@remotegpu/core';
import type { GatewayContext } from '../gateway.js';
import { languageOf } from '../http/i18n.js';
import { graphqlJsonBody } from './body.js';
import { contextFunction, type GraphqlContext } from './context.js';
import { errorFormatter } from './errors.js';
import { MAX_FRAGMENT_SPREADS, type DocumentBudget } from './document.budget.js';
import { costLimitPlugin } from './limits.js';
import { buildGatewaySchema } from './schema.js';
import { createSubscriptionServer } from './subscription.server.js';
import type { StatusFanout } from '../events/status-fanout.js';

export { buildGatewaySchema, printGatewaySchema } from './schema.js';
export type { GraphqlContext } from './context.js';
export type { ErrorExtensions } from './errors.js';

export interface GraphqlEndpoint {
  /** Mount at `/graphql`: JSON body parsing, then Apollo. */
  middleware: RequestHandler[];
  /**
   * Closes the subscription sockets, then stops Apollo, whose drain plugin closes the HTTP server and waits for
   * in-flight requests (open WebSockets would keep that waiting).
   */
  stop(): Promise<void>;
}

/**
 * GraphQL over HTTP at `/graphql` (DESIGN §4). Apollo Server 5 with CSRF prevention (its default), depth and
 * cost limits, configurable introspection, and one error format: numeric `extensions.code` as in REST, messages
 * in the request's `Accept-Language`, never a stack trace. Execution errors keep HTTP 200, as GraphQL over HTTP
 * prescribes; requests refused before execution carry their status (400, 401, 413); a subscription over HTTP is
 * a 400 pointing to WebSocket. Subscriptions run over
 * graphql-ws on the same path and server, fed by `statusEvents`.
 */
export async function createGraphql(ctx: GatewayContext, httpServer: Server, statusEvents: StatusFanout): Promise<GraphqlEndpoint> {
  const logger = ctx.logger.child({ component: 'graphql' });
  const schema = await buildGatewaySchema({ pubSub: statusEvents });
  // formatError has no access to the request; the request's language travels in async context instead.
  const requestLanguage = new AsyncLocalStorage<Language>();
  // Checked before graphql-js validates a document, over HTTP (context.ts) and graphql-ws alike.
  const budget: DocumentBudget = { maxDepth: ctx.graphql.maxDepth, maxCost: ctx.graphql.maxCost, maxFragmentSpreads: MAX_FRAGMENT_SPREADS };
  const apollo = new ApolloServer<GraphqlContext>({
    schema,
    introspection: ctx.graphql.introspection,
    // Without introspection, "Did you mean ...?" suggestions would leak the schema too.
    hideSchemaDetailsFromClientErrors: !ctx.graphql.introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    // Automatic persisted queries would let a client store documents in server memory; nothing needs them.
    persistedQueries: false,
    // The composition root owns SIGTERM and stops every component in order; Apollo must not race it.
    stopOnTerminationSignals: false,
    formatError: errorFormatter({ language: () => requestLanguage.getStore() ?? 'zh', logger }),
    logger,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      costLimitPlugin(ctx.graphql.maxCost),
      // The landing page (Apollo Sandbox) is only useful where the schema may be explored.
      ...(ctx.graphql.introspection ? [] : [ApolloServerPluginLandingPageDisabled()]),
    ],
  });
  await apollo.start();
  const subscriptions = createSubscriptionServer({
    httpServer,
    schema,
    deps: ctx.deps,
    verifier: ctx.verifier,
    logger,
    limits: { introspection: ctx.graphql.introspection, maxCost: ctx.graphql.maxCost, budget },
  });
  const apolloHandler = expressMiddleware(apollo, { context: contextFunction(ctx.deps, ctx.verifier, budget) });
  const withLanguage: RequestHandler = (req, res, next) =>
    requestLanguage.run(languageOf(req.headers['accept-language']), () => apolloHandler(req, res, next));
  return {
    middleware: [graphqlJsonBody(ctx.limits.jsonBodyBytes), withLanguage],
    async stop() {
      await subscriptions.stop();
      await apollo.stop();
    },
  };
}
