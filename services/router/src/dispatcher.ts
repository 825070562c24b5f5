import { Agent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { acceptsTraffic, errors, type AppError } from '@remotegpu/core';
import { admissionOf, retryAfterSecondsOf, type QueuePolicy } from './admission.js';
import { Exchange } from './exchange.js';
import { routerErrors } from './router.errors.js';
import type { Outcome } from './router.metrics.js';
import type { ServiceRoute } from './service-route.js';

export interface ForwardRequest {
  method: string;
  /** Path and query on the replica: `/predict`, `/v2/models/m/infer?x=1`. */
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | null;
}

/** Where an answer goes: the client's connection (data plane) or a promise (the gateway's predictor). */
export interface ExchangeSink {
  /** A replica answered. Consume `response`, then call `exchange.responseEnded(complete)` once. */
  onResponse(response: IncomingMessage, exchange: Exchange): void;
  /** The router answers instead (429, 503, 504...). At most once, and never after `onResponse`. */
  onFailure(error: AppError): void;
  /** The deadline passed while the answer was streaming: its headers are out, so the answer is cut. */
  onAbort(): void;
}

export interface DispatcherOptions {
  logger: Logger;
  requestTimeoutMs: number;
  maxInFlightPerReplica: number;
  maxQueuePerService: number;
  /** The longest a request may wait for a replica slot; past it (expected or real) the answer is 429. */
  queueBudgetMs: number;
  ejectAfterFailures: number;
  ejectForMs: number;
  now?: () => number;
}

/**
 * Moves requests onto replicas: least-outstanding choice, the per-service FIFO when every replica is at its
 * cap, and the wake-ups when a slot frees or the table changes. One keep-alive agent for all replicas, so a
 * request normally reuses a warm connection (that is most of the latency budget of a proxy).
 */
export class Dispatcher {
  readonly agent: Agent;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  readonly maxInFlightPerReplica: number;
  readonly maxQueuePerService: number;
  readonly queueBudgetMs: number;
  readonly ejectAfterFailures: number;
  readonly ejectForMs: number;
  readonly now: () => number;
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: DispatcherOptions) {
    this.logger = options.logger;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.maxInFlightPerReplica = options.maxInFlightPerReplica;
    this.maxQueuePerService = options.maxQueuePerService;
    this.queueBudgetMs = options.queueBudgetMs;
    this.ejectAfterFailures = options.ejectAfterFailures;
    this.ejectForMs = options.ejectForMs;
    this.now = options.now ?? Date.now;
    // Sockets per replica are bounded by the in-flight cap (plus retries), so no agent-side limit is needed;
    // LIFO reuse keeps the warmest socket busy and lets the others idle out.
    this.agent = new Agent({ keepAlive: true, scheduling: 'lifo', noDelay: true });
  }

  /** Starts an exchange; its sink hears the outcome. */
  begin(route: ServiceRoute<Exchange>, request: ForwardRequest, sink: ExchangeSink): Exchange {
    const exchange = new Exchange(this, route, request, sink);
    this.active += 1;
    exchange.start();
    return exchange;
  }

  /** Called by an exchange once it needs a replica (first attempt). */
  acquire(exchange: Exchange): void {
    const route = exchange.route;
    // The entry may have changed while the body was read (stopped, deleted): answer as the new state says.
    const refusal = refusalOf(route);
    if (refusal !== null) {
      exchange.fail(refusal.error, refusal.outcome);
      return;
    }
    const picked = route.pick(this.now(), this.maxInFlightPerReplica);
    if (typeof picked === 'object') {
      exchange.send(picked);
    } else if (picked === 'none') {
      exchange.fail(errors.noReadyReplica(route.serviceId), 'unavailable');
    } else {
      const admission = admissionOf(route.queueState(this.now(), this.maxInFlightPerReplica), this.queuePolicy);
      if (!admission.admit) {
        exchange.fail(routerErrors.overloaded(route.serviceId, admission.reason, admission.retryAfterSeconds, this.queueBudgetMs), 'overloaded');
        return;
      }
      exchange.markQueued(this.queueBudgetMs);
      route.enqueue(exchange);
    }
  }

  /** A waiting request's budget ran out before a slot freed: it is refused now rather than served late. */
  queueDeadlinePassed(exchange: Exchange): void {
    const route = exchange.route;
    const retryAfter = retryAfterSecondsOf(route.queueState(this.now(), this.maxInFlightPerReplica), this.queuePolicy);
    exchange.leaveQueue(routerErrors.overloaded(route.serviceId, 'queue_timeout', retryAfter, this.queueBudgetMs));
  }

  private get queuePolicy(): QueuePolicy {
    return { maxQueue: this.maxQueuePerService, budgetMs: this.queueBudgetMs };
  }

  /** A slot freed or the entry changed: hand waiting requests to replicas, or fail them when none will come. */
  drain(route: ServiceRoute<Exchange>): void {
    if (route.queued === 0) return;
    const refusal = refusalOf(route);
    if (refusal !== null) {
      for (let waiter = route.dequeue(); waiter !== undefined; waiter = route.dequeue()) waiter.fail(refusal.error, refusal.outcome);
      return;
    }
    const now = this.now();
    while (route.queued > 0) {
      const picked = route.pick(now, this.maxInFlightPerReplica);
      if (picked === 'busy') return;
      const waiter = route.dequeue();
      if (waiter === undefined) return;
      if (picked === 'none') waiter.fail(errors.noReadyReplica(route.serviceId), 'unavailable');
      else waiter.send(picked);
    }
  }

  /** Bookkeeping for `stop()`: an exchange reached its end. */
  settled(): void {
    this.active -= 1;
    if (this.active === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  get inFlight(): number {
    return this.active;
  }

  /** Resolves once no exchange is running, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Why a route takes no traffic at all right now, or null when it does. */
export function refusalOf(route: ServiceRoute<Exchange>): { error: AppError; outcome: Outcome } | null {
  if (route.deleted) return { error: errors.serviceNotFound(route.serviceId), outcome: 'rejected' };
  if (!acceptsTraffic(route.status)) {
    return { error: errors.notServing(route.serviceId, route.status), outcome: 'rejected' };
  }
  return null;
}
