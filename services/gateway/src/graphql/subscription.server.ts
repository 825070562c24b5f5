import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import type { Context, ExecutionResult, FormattedExecutionResult, OperationResult, SubscribePayload } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
} from './graphql-js.js';
import type { Logger } from 'pino';
import { AppError, ErrorCode, errors, isAppError, type Language } from '@remotegpu/core';
import { bearerToken, type TokenVerifier } from '@remotegpu/auth';
import type { AppDeps, Principal } from '../application/index.js';
import { languageOf } from '../http/i18n.js';
import type { GraphqlContext } from './context.js';
import { errorFormatter } from './errors.js';
import { budgetRefusal, type DocumentBudget } from './document.budget.js';
import { costRefusal } from './limits.js';

// graphql-ws is loaded as CommonJS for the reason limits.ts loads graphql-query-complexity so: its CJS build
// requires the CJS graphql-js that type-graphql and this code use, so the GraphQLErrors returned from
// `onSubscribe` pass its `instanceof` check and the schema is not "from another module or realm".
const { useServer } = createRequire(import.meta.url)('graphql-ws/use/ws') as typeof import('graphql-ws/use/ws');

/** Close codes of the graphql-transport-ws protocol that this server sends itself (DESIGN §5). */
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_GOING_AWAY = 1001;

/** Subscription messages are a small document and two variables; nothing legitimate comes near this. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Each subscription holds a buffer in the fan-out: bound what one socket can make the server keep. */
const MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
/** How long sockets get to answer the close handshake on shutdown before they are cut. */
const STOP_GRACE_MS = 1_000;
/** The longest delay setTimeout takes (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What this server keeps per connection, in graphql-ws's `ctx.extra` beside the socket and upgrade request. */
interface ConnectionState extends Record<PropertyKey, unknown> {
  principal: Principal;
  language: Language;
}
type WsContext = Context<Record<string, unknown> | undefined, Extra & Partial<ConnectionState>>;

export interface SubscriptionServerOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  deps: AppDeps;
  verifier: TokenVerifier;
  logger: Logger;
  /** `budget` is checked before validation, as over HTTP; `maxCost` once the variables are known. */
  limits: { introspection: boolean; maxCost: number; budget: DocumentBudget };
}

export interface SubscriptionServer {
  /** Closes every socket (1001) and the WebSocket server; the HTTP server stays up. */
  stop(): Promise<void>;
}

/** A close reason is at most 123 bytes of UTF-8; localized messages are cut to fit. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

function asGraphqlError(appError: AppError, nodes?: GraphQLError['nodes']): GraphQLError {
  return new GraphQLError(appError.message, { nodes, originalError: appError });
}

/**
 * graphql-js's own refusals (syntax, validation, variables) carry no AppError; they are the client's fault
 * (40000 with graphql-js's message, as Apollo answers them over HTTP). Without introspection, "Did you
 * mean ...?" suggestions would leak the schema, so they are cut as Apollo cuts them.
 */
function clientError(error: GraphQLError, hideSuggestions: boolean): GraphQLError {
  // With an originalError it is an AppError (kept) or a defect (formatError turns it into a 50000).
  if (error.originalError) return error;
  const message = hideSuggestions ? error.message.replace(/ ?Did you mean(.+?)\?$/, '') : error.message;
  return asGraphqlError(new AppError(ErrorCode.BadRequest, { zh: message, en: message }), error.nodes);
}

const ONLY_SUBSCRIPTIONS = new AppError(ErrorCode.BadRequest, {
  zh: 'WebSocket 仅用于订阅（subscription）；查询和变更请通过 HTTP POST /graphql 发送',
  en: 'WebSocket carries subscriptions only; send queries and mutations with HTTP POST /graphql',
});

const TOO_MANY_SUBSCRIPTIONS = new AppError(ErrorCode.BadRequest, {
  zh: `每个连接最多 ${MAX_SUBSCRIPTIONS_PER_CONNECTION} 个订阅，请先结束不再需要的订阅`,
  en: `A connection may hold at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions; complete ones you no longer need`,
});

const TOKEN_EXPIRED = errors.unauthenticated({
  zh: '访问令牌已过期，连接已关闭：请使用新的令牌重新连接',
  en: 'The access token expired, so the connection was closed: connect again with a new token',
});

/** Runs `action` at `epochMs` (now if that has passed); the returned function cancels it. */
function runAt(epochMs: number, action: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const wait = epochMs - Date.now();
    if (wait <= 0) return action();
    timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
    timer.unref(); // an open socket keeps the process alive, not its expiry
  };
  arm();
  return () => clearTimeout(timer);
}

const MISSING_TOKEN = errors.unauthenticated({
  zh: '缺少访问令牌：请在 connection_init 的 payload 中发送 {"authorization": "Bearer <token>"}',
  en: 'Missing access token: send {"authorization": "Bearer <token>"} as the connection_init payload',
});

/** The errors of a result that ended before its first event (graphql-ws passes `onOperation` the awaited result). */
function earlyErrors(result: OperationResult): readonly GraphQLError[] | undefined {
  if (typeof result !== 'object' || result === null || Symbol.asyncIterator in result || 'then' in result) return undefined;
  return result.errors?.length ? result.errors : undefined;
}

/**
 * GraphQL subscriptions over graphql-ws (graphql-transport-ws protocol) on the HTTP server's `/graphql` path.
 * The token travels in the `connection_init` payload (`{"authorization": "Bearer <jwt>"}`): missing or bad →
 * close 4401; a subscription naming a workspace the token may not act in → close 4403; when the token expires
 * the socket is closed with 4403 (DESIGN §5), so no event reaches a client past its token's `exp`. Documents
 * pass the same budget, depth and cost limits as over HTTP, the linear budget before validation, and errors
 * have the same format (numeric `extensions.code`, messages in the upgrade request's Accept-Language).
 */
export function createSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const { schema, deps, verifier, limits } = options;
  const logger = options.logger.child({ transport: 'graphql-ws' });
  const rules = [...specifiedRules, ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const formatted = (ctx: WsContext, list: readonly GraphQLError[]) => {
    const format = errorFormatter({ language: () => ctx.extra.language ?? 'zh', logger });
    return list.map((error) => format(error.toJSON(), error));
  };
  const close = (ctx: WsContext, code: number, error: AppError) =>
    ctx.extra.socket.close(code, closeReason(error.localized[ctx.extra.language ?? 'zh']));

  const wss = new WebSocketServer({ server: options.httpServer, path: '/graphql', maxPayload: MAX_MESSAGE_BYTES });
  // ws re-emits the HTTP server's errors here; graphql-ws listens only once, and an unheard 'error' would throw.
  wss.on('error', (err) => logger.error({ err }, 'graphql-ws: server error'));

  useServer<Record<string, unknown> | undefined, ConnectionState>(
    {
      schema,
      // Never put internal error messages into close reasons, whatever NODE_ENV says.
      isProd: true,

      async onConnect(ctx) {
        ctx.extra.language = languageOf(ctx.extra.request.headers['accept-language']);
        const params = ctx.connectionParams ?? {};
        const header = params.authorization ?? params.Authorization;
        try {
          if (typeof header !== 'string') throw MISSING_TOKEN;
          const principal = await verifier.verify(bearerToken(header));
          // The verifier allows a few seconds of clock skew; a token already past its exp is not worth a socket.
          if (principal.expiresAt <= Date.now()) {
            close(ctx, CLOSE_FORBIDDEN, TOKEN_EXPIRED);
            return false;
          }
          ctx.extra.principal = principal;
          const cancel = runAt(principal.expiresAt, () => close(ctx, CLOSE_FORBIDDEN, TOKEN_EXPIRED));
          ctx.extra.socket.once('close', cancel);
          return true;
        } catch (err) {
          if (!isAppError(err)) throw err; // a defect: graphql-ws closes with 4500, no details
          close(ctx, CLOSE_UNAUTHORIZED, err);
          return false; // graphql-ws's own 4403 is ignored: the socket is already closing with 4401
        }
      },

      onSubscribe(ctx, _id, payload: SubscribePayload) {
        const { principal, language } = ctx.extra;
        // graphql-ws refuses Subscribe before the connection is acknowledged, so both are set here.
        if (!principal || !language) throw new Error('subscribe on an unauthenticated connection');
        if (Object.keys(ctx.subscriptions).length > MAX_SUBSCRIPTIONS_PER_CONNECTION) return [asGraphqlError(TOO_MANY_SUBSCRIPTIONS)];
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (err) {
          if (err instanceof GraphQLError) return [clientError(err, !limits.introspection)];
          throw err;
        }
        // Before validation: graphql-js's rules walk fragments expanded, which the budget keeps small.
        const overBudget = budgetRefusal(document, limits.budget);
        if (overBudget) return [asGraphqlError(overBudget.error, overBudget.node && [overBudget.node])];
        const invalid = validate(schema, document, rules);
        if (invalid.length) return invalid.map((e) => clientError(e, !limits.introspection));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [clientError(new GraphQLError('Unable to identify the operation to run'), false)];
        if (operation.operation !== 'subscription') return [asGraphqlError(ONLY_SUBSCRIPTIONS, [operation])];
        const tooCostly = costRefusal({ schema, document, operationName: payload.operationName, variables: payload.variables }, limits.maxCost);
        if (tooCostly) return [asGraphqlError(tooCostly)];
        const contextValue: GraphqlContext = { principal, deps, language };
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
      },

      // Errors before the first event (variables, a refused workspace) end up here, not in a stream.
      onOperation(ctx, _id, _payload, _args, result) {
        const early = earlyErrors(result);
        if (!early) return;
        const appError = early.map((e) => e.originalError).find(isAppError);
        if (appError?.code === ErrorCode.Unauthenticated) close(ctx, CLOSE_UNAUTHORIZED, appError);
        if (appError?.code === ErrorCode.Forbidden) close(ctx, CLOSE_FORBIDDEN, appError);
        return { ...(result as ExecutionResult), errors: early.map((e) => clientError(e, !limits.introspection)) };
      },

      onNext(ctx, _id, _payload, _args, result): FormattedExecutionResult | void {
        if (!result.errors?.length) return; // the common case: graphql-ws serializes the result as it is
        return { ...result, errors: formatted(ctx, result.errors) };
      },

      onError(ctx, _id, _payload, list) {
        return formatted(ctx, list);
      },
    },
    wss,
  );

  return {
    async stop() {
      for (const socket of wss.clients) socket.close(CLOSE_GOING_AWAY, 'server shutting down');
      const cut = setTimeout(() => {
        for (const socket of wss.clients) socket.terminate();
      }, STOP_GRACE_MS);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      clearTimeout(cut);
    },
  };
}
