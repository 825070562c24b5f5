import type { ReplicaEndpoint, ServiceStatus } from '@remotegpu/core';
import { nextServiceTimeMs, type QueueState } from './admission.js';
import type { ServiceMetrics } from './router.metrics.js';

/** One replica as the balancer sees it. The counters survive table updates while the replica stays. */
export interface Replica {
  readonly id: string;
  readonly url: string;
  readonly hostname: string;
  readonly port: number;
  /** Path of the endpoint URL (normally empty), prepended to what is forwarded. */
  readonly pathPrefix: string;
  /** Requests sent and not yet fully answered. */
  outstanding: number;
  /**
   * What its endpoint says it should be given at once (a batching replica: two batches' worth); 0 when it says
   * nothing. The router's own cap stays the floor ({@link capOf}).
   */
  ownCap: number;
  consecutiveFailures: number;
  /** Epoch ms until which passive ejection keeps it out of rotation (0: in rotation). */
  ejectedUntil: number;
}

/** Something waiting in a service's queue; it may be cancelled (timeout, client gone) while it waits. */
export interface Waiter {
  readonly waiting: boolean;
}

export type PickResult = Replica | 'busy' | 'none';

/**
 * The routing-table entry of one service: what the latest status says, its replicas, and the FIFO of
 * requests waiting for a free replica slot.
 */
export class ServiceRoute<W extends Waiter = Waiter> {
  readonly serviceId: string;
  workspaceId: number;
  status: ServiceStatus;
  deleted = false;
  /** The record version of the snapshot this entry reflects; older snapshots are ignored (DESIGN §2.1). */
  version: number;
  /** The routing table's local count when a snapshot last touched this entry (resync pruning). */
  appliedSeq = 0;
  /** When a refused request last re-read this entry from the store (the dispatcher's clock, ms). */
  storeReadAt = 0;
  replicas: Replica[] = [];
  readonly metrics: ServiceMetrics;
  /** Live (not cancelled) waiters. */
  queued = 0;
  /** Moving average of one request's time on a replica (ms); what queue admission estimates waits from. */
  serviceTimeMs = 0;
  private cursor = 0;
  private waiters: W[] = [];
  private head = 0;

  constructor(serviceId: string, workspaceId: number, status: ServiceStatus, version: number, metrics: ServiceMetrics) {
    this.serviceId = serviceId;
    this.workspaceId = workspaceId;
    this.status = status;
    this.version = version;
    this.metrics = metrics;
  }

  /**
   * Least outstanding requests among replicas in rotation, ties broken by a rotating start so equal replicas
   * share the load. `'busy'`: some replica is in rotation but all are at their caps ({@link capOf}); `'none'`: none is.
   * `ignoreCap` is for the one retry after a connection failure: it already waited its turn once, and the
   * overshoot is bounded by one request per failed one.
   */
  pick(now: number, maxInFlight: number, exclude: Replica | null = null, ignoreCap = false): PickResult {
    const replicas = this.replicas;
    const count = replicas.length;
    if (count === 0) return 'none';
    const start = this.cursor;
    let best: Replica | null = null;
    let bestIndex = start;
    let inRotation = false;
    for (let i = 0; i < count; i++) {
      const index = start + i >= count ? start + i - count : start + i;
      const replica = replicas[index];
      if (replica === exclude || replica.ejectedUntil > now) continue;
      inRotation = true;
      if (!ignoreCap && replica.outstanding >= capOf(replica, maxInFlight)) continue;
      if (best === null || replica.outstanding < best.outstanding) {
        best = replica;
        bestIndex = index;
      }
    }
    // The next scan starts after the one chosen, so equally loaded replicas take turns even when some
    // positions are skipped (ejected or excluded).
    if (best === null) return inRotation ? 'busy' : 'none';
    this.cursor = bestIndex + 1 >= count ? 0 : bestIndex + 1;
    return best;
  }

  /** True when at least one replica is in rotation (not ejected), whatever its load. */
  hasReplicaInRotation(now: number): boolean {
    for (const replica of this.replicas) if (replica.ejectedUntil <= now) return true;
    return false;
  }

  /** Replica slots in rotation (each replica not ejected × its cap), the queue's rate of service with `serviceTimeMs`. */
  queueState(now: number, maxInFlight: number): QueueState {
    let slots = 0;
    for (const replica of this.replicas) if (replica.ejectedUntil <= now) slots += capOf(replica, maxInFlight);
    return { queued: this.queued, slots, serviceTimeMs: this.serviceTimeMs };
  }

  /** One request spent `ms` on a replica (answered, or cut at its deadline). */
  observeServiceTime(ms: number): void {
    this.serviceTimeMs = nextServiceTimeMs(this.serviceTimeMs, ms);
  }

  /** A replica answered: its failure streak ends. */
  recordSuccess(replica: Replica): void {
    replica.consecutiveFailures = 0;
  }

  /**
   * A connection failure, a timeout or a 5xx. Returns true when this one ejected it. A replica back from an
   * ejection keeps its streak, so its first failure ejects it again: a still-broken replica costs one request
   * per ejection period, not `threshold`.
   */
  recordFailure(replica: Replica, now: number, threshold: number, ejectForMs: number): boolean {
    replica.consecutiveFailures += 1;
    if (replica.consecutiveFailures < threshold || replica.ejectedUntil > now) return false;
    replica.ejectedUntil = now + ejectForMs;
    this.metrics.ejected();
    return true;
  }

  /** Replaces the endpoints, keeping the counters of replicas that stay (same id and URL). */
  setEndpoints(endpoints: readonly ReplicaEndpoint[], onInvalid: (endpoint: ReplicaEndpoint) => void): void {
    const previous = new Map<string, Replica>();
    for (const replica of this.replicas) previous.set(`${replica.id} ${replica.url}`, replica);
    const next: Replica[] = [];
    for (const endpoint of endpoints) {
      const kept = previous.get(`${endpoint.replicaId} ${endpoint.url}`);
      if (kept) {
        // A record written before endpoints carried caps, re-written with one: the same replica, a new cap.
        kept.ownCap = ownCapOf(endpoint);
        next.push(kept);
        continue;
      }
      const replica = replicaOf(endpoint);
      if (replica) next.push(replica);
      else onInvalid(endpoint);
    }
    this.replicas = next;
    if (this.cursor >= next.length) this.cursor = 0;
  }

  enqueue(waiter: W): void {
    this.waiters.push(waiter);
    this.queued += 1;
    this.metrics.setQueueDepth(this.queued);
  }

  /** The oldest live waiter, removed from the queue. */
  dequeue(): W | undefined {
    while (this.head < this.waiters.length) {
      const waiter = this.waiters[this.head];
      this.head += 1;
      if (!waiter.waiting) continue;
      this.queued -= 1;
      this.metrics.setQueueDepth(this.queued);
      this.compact();
      return waiter;
    }
    this.compact();
    return undefined;
  }

  /** A waiter left on its own (timeout, client gone); its slot in the array is skipped later. */
  cancelled(): void {
    this.queued -= 1;
    this.metrics.setQueueDepth(this.queued);
    if (this.queued === 0) {
      this.waiters = [];
      this.head = 0;
    }
  }

  private compact(): void {
    if (this.head === this.waiters.length) {
      this.waiters.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
  }
}

/** Parses an endpoint URL; null for anything but plain http with a host (the local runtime and k8s give that). */
export function replicaOf(endpoint: ReplicaEndpoint): Replica | null {
  let url: URL;
  try {
    url = new URL(endpoint.url);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' || !url.hostname) return null;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    id: endpoint.replicaId,
    url: endpoint.url,
    hostname,
    port: url.port ? Number(url.port) : 80,
    pathPrefix: url.pathname.replace(/\/+$/, ''),
    outstanding: 0,
    ownCap: ownCapOf(endpoint),
    consecutiveFailures: 0,
    ejectedUntil: 0,
  };
}

/**
 * A replica's in-flight cap: the router's `maxInFlight` (RGPU_ROUTER_MAX_IN_FLIGHT) or more when its endpoint asks
 * for more. A batching replica given fewer requests than its batch size could never fill a batch.
 */
export function capOf(replica: Replica, maxInFlight: number): number {
  return replica.ownCap > maxInFlight ? replica.ownCap : maxInFlight;
}

function ownCapOf(endpoint: ReplicaEndpoint): number {
  const cap = endpoint.maxInFlight;
  return typeof cap === 'number' && Number.isInteger(cap) && cap > 0 ? cap : 0;
}
