import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AppError } from '@remotegpu/core';
import type { Dispatcher, ExchangeSink, ForwardRequest } from './dispatcher.js';
import { routerErrors } from './router.errors.js';
import type { Outcome } from './router.metrics.js';
import type { Replica, ServiceRoute, Waiter } from './service-route.js';

type ExchangeState = 'idle' | 'queued' | 'sending' | 'streaming' | 'done';

/**
 * One client request on its way through the data plane: waits for a slot, goes to a replica, maybe once more
 * to another replica, and ends exactly once (answer streamed, router error, timeout or client gone).
 * The state decides which late callbacks still matter: anything arriving after `done` is ignored.
 */
export class Exchange implements Waiter {
  readonly route: ServiceRoute<Exchange>;
  private readonly dispatcher: Dispatcher;
  private readonly request: ForwardRequest;
  private readonly sink: ExchangeSink;
  private state: ExchangeState = 'idle';
  private replica: Replica | null = null;
  private upstream: ClientRequest | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Runs while the request waits in its service's queue: the queue budget. */
  private queueTimer: NodeJS.Timeout | null = null;
  private retried = false;
  private staleSocketRetried = false;
  private sentAt = 0;
  /** When the router took the request (queueing included in its duration). */
  private readonly beganAt = performance.now();
  private upstreamStatus = 0;

  constructor(dispatcher: Dispatcher, route: ServiceRoute<Exchange>, request: ForwardRequest, sink: ExchangeSink) {
    this.dispatcher = dispatcher;
    this.route = route;
    this.request = request;
    this.sink = sink;
  }

  get waiting(): boolean {
    return this.state === 'queued';
  }

  /** The deadline covers queueing and the upstream answer: a client waits at most `requestTimeoutMs`. */
  start(): void {
    this.timer = setTimeout(onTimeout, this.dispatcher.requestTimeoutMs, this);
    this.dispatcher.acquire(this);
  }

  markQueued(budgetMs: number): void {
    this.state = 'queued';
    this.queueTimer = setTimeout(onQueueDeadline, budgetMs, this);
  }

  /** Refused while waiting (queue budget spent): out of the queue, answered with `error`. */
  leaveQueue(error: AppError): void {
    if (this.state !== 'queued') return;
    this.route.cancelled();
    this.fail(error, 'overloaded');
  }

  send(replica: Replica): void {
    this.clearQueueTimer();
    this.state = 'sending';
    this.replica = replica;
    replica.outstanding += 1;
    this.sentAt = performance.now();
    const { method, path, headers, body } = this.request;
    const upstream = httpRequest({
      agent: this.dispatcher.agent,
      host: replica.hostname,
      port: replica.port,
      method,
      path: replica.pathPrefix + path,
      headers,
    });
    this.upstream = upstream;
    upstream.on('response', (response) => this.onResponse(upstream, response));
    upstream.on('error', (err) => this.onUpstreamError(upstream, err as NodeJS.ErrnoException));
    upstream.end(body ?? undefined);
  }

  /** Called by the sink once the streamed answer ended; `complete` is false when it broke off midway. */
  responseEnded(complete: boolean): void {
    if (this.state !== 'streaming') return;
    const failed = !complete || this.upstreamStatus >= 500;
    const elapsedMs = performance.now() - this.sentAt;
    this.route.metrics.observeUpstreamSeconds(elapsedMs / 1000);
    // Only whole answers say how fast the replicas serve; a fast 5xx or a broken stream would flatter them.
    if (!failed) this.route.observeServiceTime(elapsedMs);
    this.releaseReplica(failed);
    this.settle(this.upstreamStatus >= 500 || !complete ? 'upstream_error' : 'ok');
    this.dispatcher.drain(this.route);
  }

  /** The client went away: stop whatever is under way, without blaming the replica. */
  abort(): void {
    switch (this.state) {
      case 'queued':
        this.route.cancelled();
        this.settle('client_aborted');
        return;
      case 'sending':
      case 'streaming':
        this.upstream?.destroy();
        this.releaseReplica(false);
        this.settle('client_aborted');
        this.dispatcher.drain(this.route);
        return;
      case 'idle':
      case 'done':
        return;
    }
  }

  fail(error: AppError, outcome: Outcome): void {
    if (this.state === 'done') return;
    this.settle(outcome);
    this.sink.onFailure(error);
  }

  private onResponse(upstream: ClientRequest, response: IncomingMessage): void {
    if (upstream !== this.upstream || this.state !== 'sending') {
      response.resume();
      return;
    }
    const status = response.statusCode ?? 502;
    // A 503 from a replica means it did not take the request (still loading, or draining before a stop):
    // as safe to send elsewhere as a refused connection, and it keeps rollouts free of failed predictions.
    if (status === 503 && !this.retried && this.retryElsewhere()) {
      response.resume();
      return;
    }
    this.upstreamStatus = status;
    this.state = 'streaming';
    this.sink.onResponse(response, this);
  }

  private onUpstreamError(upstream: ClientRequest, err: NodeJS.ErrnoException): void {
    if (upstream !== this.upstream || this.state !== 'sending') return;
    const replica = this.replica;
    if (replica === null) return;
    // A kept-alive socket the replica closed just as we reused it: the replica is fine, the race is ours.
    if (upstream.reusedSocket && !this.staleSocketRetried && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
      this.staleSocketRetried = true;
      replica.outstanding -= 1;
      this.send(replica);
      return;
    }
    this.dispatcher.logger.debug({ serviceId: this.route.serviceId, replicaId: replica.id, code: err.code }, 'replica connection failed');
    // Nothing listens there (a killed replica before the table learns it): take it out of rotation at once, so
    // concurrent requests and this one's retry do not pick another dead replica while the streak builds up.
    if (err.code === 'ECONNREFUSED') replica.consecutiveFailures = Math.max(replica.consecutiveFailures, this.dispatcher.ejectAfterFailures - 1);
    if (!this.retried && this.retryElsewhere()) return;
    this.releaseReplica(true);
    this.fail(routerErrors.unreachable(this.route.serviceId), 'unavailable');
    this.dispatcher.drain(this.route);
  }

  /** The one retry: counts the failure, then moves to the least loaded other replica in rotation, if any. */
  private retryElsewhere(): boolean {
    const failed = this.replica;
    if (failed === null) return false;
    const next = this.route.pick(this.dispatcher.now(), this.dispatcher.maxInFlightPerReplica, failed, true);
    if (typeof next !== 'object') return false;
    this.retried = true;
    this.releaseReplica(true);
    this.route.metrics.retried();
    this.send(next);
    this.dispatcher.drain(this.route);
    return true;
  }

  queueDeadlinePassed(): void {
    this.queueTimer = null;
    if (this.state === 'queued') this.dispatcher.queueDeadlinePassed(this);
  }

  /** Deadline passed: a queued request leaves the queue, a running one is cut and its replica blamed. */
  timedOut(): void {
    this.timer = null;
    const error = routerErrors.timeout(this.route.serviceId, this.dispatcher.requestTimeoutMs);
    switch (this.state) {
      case 'queued':
        this.route.cancelled();
        this.fail(error, 'timeout');
        return;
      case 'sending':
        // A replica that did not answer in time is at least this slow: the queue's estimate must know it.
        this.route.observeServiceTime(performance.now() - this.sentAt);
        this.upstream?.destroy();
        this.releaseReplica(true);
        this.fail(error, 'timeout');
        this.dispatcher.drain(this.route);
        return;
      case 'streaming':
        this.route.observeServiceTime(performance.now() - this.sentAt);
        this.upstream?.destroy();
        this.releaseReplica(true);
        this.settle('timeout');
        this.sink.onAbort();
        this.dispatcher.drain(this.route);
        return;
      case 'idle':
      case 'done':
        return;
    }
  }

  private releaseReplica(failed: boolean): void {
    const replica = this.replica;
    if (replica === null) return;
    this.replica = null;
    replica.outstanding -= 1;
    const { route, dispatcher } = this;
    if (!failed) {
      route.recordSuccess(replica);
    } else if (route.recordFailure(replica, dispatcher.now(), dispatcher.ejectAfterFailures, dispatcher.ejectForMs)) {
      dispatcher.logger.warn(
        { serviceId: route.serviceId, replicaId: replica.id, failures: replica.consecutiveFailures, ejectForMs: dispatcher.ejectForMs },
        'replica ejected after consecutive failures',
      );
    }
  }

  private clearQueueTimer(): void {
    if (this.queueTimer === null) return;
    clearTimeout(this.queueTimer);
    this.queueTimer = null;
  }

  private settle(outcome: Outcome): void {
    this.state = 'done';
    this.clearQueueTimer();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.route.metrics.outcome(outcome);
    this.route.metrics.observeRequestSeconds((performance.now() - this.beganAt) / 1000);
    this.dispatcher.settled();
  }
}

// Module-level functions instead of closures per request: setTimeout passes the exchange back.
function onTimeout(exchange: Exchange): void {
  exchange.timedOut();
}

function onQueueDeadline(exchange: Exchange): void {
  exchange.queueDeadlinePassed();
}
