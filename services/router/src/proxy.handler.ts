import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { canActIn, type Principal } from '@remotegpu/auth';
import { ClientGoneError, readBody } from '@remotegpu/http';
import { AppError, ErrorCode, errors, isAppError } from '@remotegpu/core';
import { refusalOf, type Dispatcher, type ExchangeSink } from './dispatcher.js';
import type { Exchange } from './exchange.js';
import type { PrincipalCache } from './principal-cache.js';
import { downstreamResponseHeaders, requestIdOf, upstreamRequestHeaders } from './proxy.headers.js';
import { languageOf, routerErrors, sendErrorEnvelope } from './router.errors.js';
import type { Outcome, RouterMetrics } from './router.metrics.js';
import type { ServiceRoute } from './service-route.js';

const PREFIX = '/inference/';
const SERVICE_ID = /^[a-z0-9-]{1,64}$/;

export interface ProxyHandlerOptions {
  dispatcher: Dispatcher;
  principals: PrincipalCache;
  /** The table entry, reading the store when the table has none (an event missed or not yet arrived). */
  resolve: (serviceId: string) => ServiceRoute<Exchange> | undefined | Promise<ServiceRoute<Exchange> | undefined>;
  /**
   * Before refusing a live entry (not serving, nothing in rotation): the store's view, when the entry may lag behind
   * it (undefined when it was re-read moments ago). Optional: without it the entry's word is final.
   */
  refresh?: (route: ServiceRoute<Exchange>) => Promise<ServiceRoute<Exchange> | undefined> | undefined;
  metrics: RouterMetrics;
  logger: Logger;
  maxBodyBytes: number;
  forwardedHeaders: Readonly<Record<string, string>>;
  isStopping: () => boolean;
}

interface Target {
  serviceId: string;
  /** Path and query on the replica. */
  path: string;
}

/** The data plane's HTTP entry: `/inference/{id}/predict` and `/inference/{id}/v2/...`. */
export function createProxyHandler(options: ProxyHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    serve(options, req, res).catch((err: unknown) => {
      options.logger.error({ err }, 'data-plane request failed unexpectedly');
      sendErrorEnvelope(res, errors.internal(err), 'zh', requestIdOf(req.headers));
    });
  };
}

async function serve(options: ProxyHandlerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = req.headers;
  const requestId = requestIdOf(headers);
  // The language is worked out only when there is an error to word: the success path never needs it.
  const reject = (error: AppError, outcome: Outcome, route?: ServiceRoute<Exchange>, close = false): void => {
    if (route) route.metrics.outcome(outcome);
    else options.metrics.unresolved(outcome);
    options.logger.info({ requestId, serviceId: route?.serviceId, code: error.code, reason: error.reason }, 'data-plane request refused');
    sendErrorEnvelope(res, error, languageOf(headers['accept-language']), requestId, close);
  };

  if (options.isStopping()) return reject(routerErrors.shuttingDown(), 'unavailable');
  const target = targetOf(req.method ?? 'GET', req.url ?? '/');
  if (isAppError(target)) {
    if (target.code === ErrorCode.MethodNotAllowed) res.setHeader('allow', PREDICT_METHODS.join(', '));
    return reject(target, 'rejected');
  }

  let principal: Principal | undefined = options.principals.cached(headers.authorization);
  if (principal === undefined) {
    try {
      principal = await options.principals.verify(headers.authorization);
    } catch (err) {
      if (!isAppError(err)) throw err;
      return reject(err, 'rejected');
    }
  }

  const found = options.resolve(target.serviceId);
  let route = found instanceof Promise ? await found : found;
  // Another workspace's service is indistinguishable from a missing one (DESIGN §3: 404, never 403).
  if (route === undefined || route.deleted || !canActIn(principal, route.workspaceId)) {
    return reject(errors.serviceNotFound(target.serviceId), 'rejected');
  }
  // Checked before reading the body, so a client is not made to upload megabytes for a certain 409 or 503.
  if (!servable(route, options)) {
    const refreshed = options.refresh?.(route);
    if (refreshed !== undefined) route = (await refreshed) ?? route;
    if (route.deleted) return reject(errors.serviceNotFound(target.serviceId), 'rejected');
    const refusal = refusalOf(route);
    if (refusal !== null) return reject(refusal.error, refusal.outcome, route);
    if (!route.hasReplicaInRotation(options.dispatcher.now())) {
      return reject(errors.noReadyReplica(route.serviceId), 'unavailable', route);
    }
  }

  let body: Buffer; // buffered whole: a retry must be able to send it again
  try {
    body = await readBody(req, options.maxBodyBytes);
  } catch (err) {
    if (isAppError(err)) return reject(err, 'rejected', route, true);
    if (!(err instanceof ClientGoneError)) throw err;
    route.metrics.outcome('client_aborted');
    return;
  }

  const sink = new ClientSink(res, requestId, headers['accept-language']);
  const exchange = options.dispatcher.begin(
    route,
    {
      method: req.method ?? 'GET',
      path: target.path,
      headers: upstreamRequestHeaders(req, requestId, body.length, options.forwardedHeaders),
      body: body.length > 0 ? body : null,
    },
    sink,
  );
  const startedAt = performance.now();
  res.once('close', () => {
    exchange.abort();
    // The request id joins this line to the gateway's access log and the replica's. Successes only at debug: this
    // is the hot path; an answer of 400 or more (the replica's or the router's own) at info.
    const failed = res.statusCode >= 400 || !res.writableFinished;
    if (!failed && !options.logger.isLevelEnabled('debug')) return;
    options.logger[failed ? 'info' : 'debug'](
      { requestId, serviceId: target.serviceId, status: res.statusCode, aborted: !res.writableFinished, durationMs: Math.round(performance.now() - startedAt) },
      'data-plane request',
    );
  });
}

function servable(route: ServiceRoute<Exchange>, options: ProxyHandlerOptions): boolean {
  return refusalOf(route) === null && route.hasReplicaInRotation(options.dispatcher.now());
}

/** Streams a replica's answer to the client unchanged, or writes the router's own error envelope. */
class ClientSink implements ExchangeSink {
  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
    private readonly acceptLanguage: string | undefined,
  ) {}

  onResponse(response: IncomingMessage, exchange: Exchange): void {
    const res = this.res;
    res.writeHead(response.statusCode ?? 502, downstreamResponseHeaders(response, this.requestId));
    // A hand-written pipe: pipe() wires seven listeners per response, and this path runs for every request.
    response.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) {
        response.pause();
        res.once('drain', () => response.resume());
      }
    });
    response.on('end', () => {
      // The exchange ends before the client's response does, so the client's 'close' finds nothing to abort.
      exchange.responseEnded(true);
      res.end();
    });
    response.on('close', () => {
      if (response.complete) return;
      exchange.responseEnded(false);
      res.destroy();
    });
    response.on('error', ignore);
  }

  onFailure(error: AppError): void {
    sendErrorEnvelope(this.res, error, languageOf(this.acceptLanguage), this.requestId);
  }

  onAbort(): void {
    this.res.destroy();
  }
}

function ignore(): void {}

/** `{endpoint_url}/predict` only takes a body; anything else is 405 with `Allow` (the route itself exists). */
const PREDICT_METHODS: readonly string[] = ['POST'];

/** Splits `/inference/{id}/...` into the service and the replica path, or says why it cannot be served. */
export function targetOf(method: string, url: string): Target | AppError {
  const notFound = (): AppError => errors.routeNotFound(url.slice(0, 200));
  if (!url.startsWith(PREFIX)) return notFound();
  const idEnd = url.indexOf('/', PREFIX.length);
  if (idEnd < 0) return notFound();
  const serviceId = url.slice(PREFIX.length, idEnd);
  if (!SERVICE_ID.test(serviceId)) return notFound();
  const rest = url.slice(idEnd);
  const queryAt = rest.indexOf('?');
  const path = queryAt < 0 ? rest : rest.slice(0, queryAt);
  if (path === '/predict') {
    if (PREDICT_METHODS.includes(method)) return { serviceId, path: rest };
    return errors.methodNotAllowed(method, `${PREFIX}${serviceId}/predict`, PREDICT_METHODS);
  }
  if (path === '/v2' || path.startsWith('/v2/')) {
    if (hasDotSegment(path)) return routerErrors.pathNotAllowed();
    return { serviceId, path: rest };
  }
  return notFound();
}

/** `..` would let a client walk out of `/v2` on the replica; model names may contain dots, so look closely. */
function hasDotSegment(path: string): boolean {
  if (!path.includes('/.') && !/%2e/i.test(path)) return false;
  return path.split('/').some((segment) => {
    const decoded = segment.replace(/%2e/gi, '.');
    return decoded === '.' || decoded === '..';
  });
}
