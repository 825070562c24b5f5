import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { TokenVerifier } from '@remotegpu/auth';
import type { EventBus, Subscription } from '@remotegpu/bus';
import type { Store } from '@remotegpu/store';
import { Dispatcher } from './dispatcher.js';
import type { Exchange } from './exchange.js';
import { createRouterPredictor, type Predictor } from './predictor.js';
import { PrincipalCache } from './principal-cache.js';
import { forwardedHeadersOf } from './proxy.headers.js';
import { createProxyHandler } from './proxy.handler.js';
import { RouterMetrics } from './router.metrics.js';
import { RoutingTable, snapshotOfEvent, snapshotOfService } from './routing-table.js';
import type { ServiceRoute } from './service-route.js';

export interface RouterOptions {
  store: Store;
  bus: EventBus;
  verifier: TokenVerifier;
  logger: Logger;
  metrics: Registry;
  /** The platform's public URL; replicas get it as X-Forwarded-Proto/-Host. */
  publicUrl?: string;
  /** Deadline of one request, queueing included (→ 504). */
  requestTimeoutMs?: number;
  maxInFlightPerReplica?: number;
  /** Waiting requests per service beyond which the answer is 429. */
  maxQueuePerService?: number;
  /**
   * The longest a request may wait for a free replica slot. A request whose expected wait (queue length ×
   * observed service time ÷ slots) exceeds it is refused at once with 429 + Retry-After; one still waiting when
   * it runs out is refused then.
   */
  queueBudgetMs?: number;
  /** Consecutive failures (connection errors, timeouts, 5xx) that take a replica out of rotation. */
  ejectAfterFailures?: number;
  ejectForMs?: number;
  maxBodyBytes?: number;
  /** A full re-read of the store repairs missed events (0 turns it off). */
  resyncIntervalMs?: number;
}

export interface Router {
  start(): Promise<void>;
  stop(): Promise<void>;
  handle(req: IncomingMessage, res: ServerResponse): void;
  predictor: Predictor;
}

type RouterState = 'created' | 'running' | 'stopping' | 'stopped';

export const ROUTER_DEFAULTS = {
  requestTimeoutMs: 30_000,
  maxInFlightPerReplica: 8,
  maxQueuePerService: 256,
  queueBudgetMs: 3_000,
  ejectAfterFailures: 3,
  ejectForMs: 10_000,
  maxBodyBytes: 10 * 1024 * 1024,
  resyncIntervalMs: 30_000,
} as const;

/**
 * The data plane (DESIGN §2): a routing table fed by status events and rebuilt from the store, and a proxy
 * over it. `handle` serves `/inference/{id}/...`; `predictor` is the same path for REST and GraphQL predict.
 */
export function createRouter(options: RouterOptions): Router {
  const settings = settingsOf(options);
  const logger = options.logger;
  const metrics = new RouterMetrics(options.metrics);
  const dispatcher = new Dispatcher({
    logger,
    requestTimeoutMs: settings.requestTimeoutMs,
    maxInFlightPerReplica: settings.maxInFlightPerReplica,
    maxQueuePerService: settings.maxQueuePerService,
    queueBudgetMs: settings.queueBudgetMs,
    ejectAfterFailures: settings.ejectAfterFailures,
    ejectForMs: settings.ejectForMs,
  });
  const table = new RoutingTable<Exchange>({ metrics, logger, onChange: (route) => dispatcher.drain(route) });
  let state: RouterState = 'created';
  const isStopping = (): boolean => state === 'stopping' || state === 'stopped';
  let subscription: Subscription | undefined;
  let resyncTimer: NodeJS.Timeout | undefined;
  let stopReconnectResync: (() => void) | undefined;

  // Concurrent misses for one id share a single store read.
  const lookups = new Map<string, Promise<ServiceRoute<Exchange> | undefined>>();
  const resolve = (serviceId: string): ServiceRoute<Exchange> | undefined | Promise<ServiceRoute<Exchange> | undefined> => {
    const route = table.get(serviceId);
    if (route !== undefined) return route;
    let pending = lookups.get(serviceId);
    if (pending === undefined) {
      pending = options.store.services
        .get(serviceId)
        .then((service) => (service === null ? undefined : table.apply(snapshotOfService(service))))
        .finally(() => lookups.delete(serviceId));
      lookups.set(serviceId, pending);
    }
    return pending;
  };

  /**
   * A second look at the store before refusing (409 not serving, 503 nothing in rotation): right after a status
   * change the caller may have read the store (the gateway checks the status before it forwards a predict) while the
   * event is still on its way here. At most one read per service every {@link REFRESH_MIN_INTERVAL_MS}, so a
   * stream of requests to a stopped service costs the store a few reads a second, not one per request.
   */
  const refreshes = new Map<string, Promise<ServiceRoute<Exchange> | undefined>>();
  const refresh = (route: ServiceRoute<Exchange>): Promise<ServiceRoute<Exchange> | undefined> | undefined => {
    const now = dispatcher.now();
    if (now - route.storeReadAt < REFRESH_MIN_INTERVAL_MS) return undefined;
    let pending = refreshes.get(route.serviceId);
    if (pending === undefined) {
      route.storeReadAt = now;
      pending = options.store.services
        .getIncludingDeleted(route.serviceId)
        .then((service) => (service === null ? undefined : table.apply(snapshotOfService(service))))
        .finally(() => refreshes.delete(route.serviceId));
      refreshes.set(route.serviceId, pending);
    }
    return pending;
  };

  async function resync(): Promise<void> {
    const mark = table.mark();
    const services = await options.store.services.listForReconcile();
    const present = new Set<string>();
    for (const service of services) {
      present.add(service.id);
      table.apply(snapshotOfService(service));
    }
    table.retainOnly(present, mark);
  }

  const handle = createProxyHandler({
    dispatcher,
    principals: new PrincipalCache({ verifier: options.verifier }),
    resolve,
    refresh,
    metrics,
    logger,
    maxBodyBytes: settings.maxBodyBytes,
    forwardedHeaders: forwardedHeadersOf(options.publicUrl),
    isStopping,
  });

  return {
    handle,
    predictor: createRouterPredictor({ table, dispatcher, maxBodyBytes: settings.maxBodyBytes, isStopping }),

    async start() {
      if (state !== 'created') throw new Error(`router cannot start: it is ${state}`);
      // Subscribe before reading the store: an event in between is then seen, and `at` orders the two.
      subscription = await options.bus.subscribe('service.status', (event) => {
        const before = table.get(event.serviceId)?.appliedSeq;
        const route = table.apply(snapshotOfEvent(event));
        // One line per applied status change (a few per lifecycle operation, never per request), with the request
        // that caused it: `correlationId` joins this log to the gateway's and the provisioner's.
        if (route.appliedSeq !== before) {
          logger.info(
            { serviceId: event.serviceId, status: event.status, version: event.version, endpoints: event.endpoints.length, deleted: event.deleted, correlationId: event.correlationId },
            'route updated',
          );
        }
      });
      // Events published while the broker was away may never arrive: re-read the store (DESIGN §2.1).
      stopReconnectResync = options.bus.onReconnect(() => {
        logger.info('bus reconnected: re-reading the routing table from the store');
        resync().catch((err: unknown) => logger.warn({ err }, 'routing table resync after reconnect failed; the periodic resync retries'));
      });
      await resync();
      if (settings.resyncIntervalMs > 0) {
        resyncTimer = setInterval(() => {
          resync().catch((err: unknown) => logger.warn({ err }, 'routing table resync failed; keeping the current table'));
        }, settings.resyncIntervalMs);
        resyncTimer.unref();
      }
      state = 'running';
      logger.info({ services: table.size }, 'router started');
    },

    async stop() {
      if (state === 'stopping' || state === 'stopped') return;
      state = 'stopping';
      if (resyncTimer) clearInterval(resyncTimer);
      stopReconnectResync?.();
      await subscription?.unsubscribe().catch((err: unknown) => logger.warn({ err }, 'unsubscribing from status events failed'));
      // Requests already admitted may finish; new ones get 503 (the load balancer in front retries elsewhere).
      await dispatcher.idle(settings.requestTimeoutMs);
      dispatcher.close();
      state = 'stopped';
    },
  };
}

/** How often one service's entry may be re-read from the store when a request would be refused. */
const REFRESH_MIN_INTERVAL_MS = 250;

type Settings = { -readonly [K in keyof typeof ROUTER_DEFAULTS]: number };

/** Defaults for what is left out; a nonsensical value is a programming error, so it throws at once. */
function settingsOf(options: RouterOptions): Settings {
  const settings = {} as Settings;
  for (const key of Object.keys(ROUTER_DEFAULTS) as (keyof Settings)[]) {
    const value = options[key] ?? ROUTER_DEFAULTS[key];
    const mayBeZero = key === 'resyncIntervalMs' || key === 'maxQueuePerService';
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !mayBeZero)) {
      throw new Error(`router option ${key} must be a positive number, got ${value}`);
    }
    settings[key] = value;
  }
  return settings;
}
