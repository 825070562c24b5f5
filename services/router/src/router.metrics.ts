import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

/**
 * What a request ended as. `ok` and `upstream_error` are answers a replica gave (2xx-4xx, 5xx); the rest are
 * the router's own answers.
 */
export type Outcome = 'ok' | 'upstream_error' | 'timeout' | 'unavailable' | 'overloaded' | 'rejected' | 'client_aborted';

const OUTCOMES: readonly Outcome[] = ['ok', 'upstream_error', 'timeout', 'unavailable', 'overloaded', 'rejected', 'client_aborted'];
const OUTCOME_INDEX = Object.fromEntries(OUTCOMES.map((o, i) => [o, i])) as Record<Outcome, number>;

/** Label value for requests that never resolved to a visible service (keeps unknown ids out of the labels). */
export const NO_SERVICE = '';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * One service's counters. The per-request ones are plain numbers, handed to prom-client at scrape time:
 * prom-client hashes the label set and allocates on every `inc`/`observe`, which is a measurable share of
 * a proxy's per-request work.
 */
export class ServiceMetrics {
  /** Requests per outcome since the last scrape. */
  readonly pendingOutcomes = new Float64Array(OUTCOMES.length);
  /** Non-cumulative bucket counts (the last slot is +Inf), sum and count of upstream latency. */
  readonly latencyBuckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  latencySum = 0;
  latencyCount = 0;
  /** The same for the whole request as the router handled it: queue wait, retries and the upstream answer. */
  readonly requestBuckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  requestSum = 0;
  requestCount = 0;

  constructor(
    readonly serviceId: string,
    private readonly metrics: RouterMetrics,
  ) {}

  outcome(outcome: Outcome): void {
    this.pendingOutcomes[OUTCOME_INDEX[outcome]] += 1;
  }

  observeUpstreamSeconds(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.latencyBuckets[i] += 1;
    this.latencySum += seconds;
    this.latencyCount += 1;
  }

  observeRequestSeconds(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.requestBuckets[i] += 1;
    this.requestSum += seconds;
    this.requestCount += 1;
  }

  setQueueDepth(depth: number): void {
    this.metrics.queueDepth.labels(this.serviceId).set(depth);
  }

  retried(): void {
    this.metrics.retries.labels(this.serviceId).inc();
  }

  ejected(): void {
    this.metrics.ejections.labels(this.serviceId).inc();
  }
}

export class RouterMetrics {
  readonly queueDepth: Gauge<'service'>;
  readonly retries: Counter<'service'>;
  readonly ejections: Counter<'service'>;
  private readonly requests: Counter<'service' | 'outcome'>;
  private readonly services = new Map<string, ServiceMetrics>();
  private readonly unresolvedMetrics: ServiceMetrics;

  constructor(registry: Registry) {
    const registers = [registry];
    const services = this.services;
    const flushOutcomes = (counter: Counter<'service' | 'outcome'>, metrics: ServiceMetrics): void => {
      for (let i = 0; i < OUTCOMES.length; i++) {
        const pending = metrics.pendingOutcomes[i];
        if (pending === 0) continue;
        metrics.pendingOutcomes[i] = 0;
        counter.labels(metrics.serviceId, OUTCOMES[i]).inc(pending);
      }
    };
    this.unresolvedMetrics = new ServiceMetrics(NO_SERVICE, this);
    const unresolved = this.unresolvedMetrics;
    this.requests = new Counter({
      name: 'rgpu_router_requests_total',
      help: 'Data-plane requests by service and outcome',
      labelNames: ['service', 'outcome'],
      registers,
      collect() {
        flushOutcomes(this, unresolved);
        for (const metrics of services.values()) flushOutcomes(this, metrics);
      },
    });
    registry.registerMetric(
      new LatencyHistogram(services, 'rgpu_router_upstream_duration_seconds', 'Time from sending a request to a replica until its answer was fully received', UPSTREAM) as unknown as Metric,
    );
    registry.registerMetric(
      new LatencyHistogram(
        services,
        'rgpu_router_request_duration_seconds',
        'Time from the router taking a data-plane request (REST and GraphQL predict included) until it was answered: queue wait, retries and the replica',
        WHOLE_REQUEST,
      ) as unknown as Metric,
    );
    this.queueDepth = new Gauge({
      name: 'rgpu_router_queue_depth',
      help: 'Requests waiting for a free replica slot',
      labelNames: ['service'],
      registers,
    });
    this.retries = new Counter({
      name: 'rgpu_router_retries_total',
      help: 'Requests sent again to another replica after a connection failure or a 503',
      labelNames: ['service'],
      registers,
    });
    this.ejections = new Counter({
      name: 'rgpu_router_ejections_total',
      help: 'Replicas taken out of rotation after consecutive failures',
      labelNames: ['service'],
      registers,
    });
  }

  forService(serviceId: string): ServiceMetrics {
    let metrics = this.services.get(serviceId);
    if (metrics === undefined) {
      metrics = new ServiceMetrics(serviceId, this);
      this.services.set(serviceId, metrics);
    }
    return metrics;
  }

  /** A removed service's series go away with it, so deleted services do not pile up in /metrics. */
  forget(serviceId: string): void {
    this.services.delete(serviceId);
    this.queueDepth.remove(serviceId);
    this.retries.remove(serviceId);
    this.ejections.remove(serviceId);
    for (const outcome of OUTCOMES) this.requests.remove(serviceId, outcome);
  }

  /** Requests answered before a service was resolved (401, unknown id). */
  unresolved(outcome: Outcome): void {
    this.unresolvedMetrics.outcome(outcome);
  }
}

interface SampleValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** What prom-client's Registry reads from a metric (its typings model `type` as an enum it never uses). */
interface CollectedMetric {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  values: SampleValue[];
}

interface HistogramSlot {
  buckets(m: ServiceMetrics): Float64Array;
  sum(m: ServiceMetrics): number;
  count(m: ServiceMetrics): number;
  reset(m: ServiceMetrics): void;
}

const UPSTREAM: HistogramSlot = {
  buckets: (m) => m.latencyBuckets,
  sum: (m) => m.latencySum,
  count: (m) => m.latencyCount,
  reset: (m) => {
    m.latencyBuckets.fill(0);
    m.latencySum = 0;
    m.latencyCount = 0;
  },
};

const WHOLE_REQUEST: HistogramSlot = {
  buckets: (m) => m.requestBuckets,
  sum: (m) => m.requestSum,
  count: (m) => m.requestCount,
  reset: (m) => {
    m.requestBuckets.fill(0);
    m.requestSum = 0;
    m.requestCount = 0;
  },
};

/**
 * A per-service histogram as a registry entry of its own: prom-client's Registry only calls `get()` (and
 * `reset()`), so the buckets can live in the per-service objects the hot path already holds.
 */
class LatencyHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;

  constructor(
    private readonly services: ReadonlyMap<string, ServiceMetrics>,
    readonly name: string,
    readonly help: string,
    private readonly slot: HistogramSlot,
  ) {}

  get(): CollectedMetric {
    const values: SampleValue[] = [];
    for (const metrics of this.services.values()) {
      if (this.slot.count(metrics) === 0) continue;
      const service = metrics.serviceId;
      const buckets = this.slot.buckets(metrics);
      let cumulative = 0;
      for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
        cumulative += buckets[i];
        const le = i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i] : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le, service }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { service }, value: this.slot.sum(metrics) });
      values.push({ metricName: `${this.name}_count`, labels: { service }, value: this.slot.count(metrics) });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const metrics of this.services.values()) this.slot.reset(metrics);
  }
}
