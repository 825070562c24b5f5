import { supersedes, type InferenceService, type ReplicaEndpoint, type ServiceStatus, type ServiceStatusEvent } from '@remotegpu/core';
import type { Logger } from 'pino';
import type { RouterMetrics } from './router.metrics.js';
import { ServiceRoute, type Waiter } from './service-route.js';

/** What the table needs to know of a service, whichever way it arrived (event, store read, predictor call). */
export interface RouteSnapshot {
  serviceId: string;
  workspaceId: number;
  status: ServiceStatus;
  endpoints: readonly ReplicaEndpoint[];
  deleted: boolean;
  /** The record's version (DESIGN §2.1); a snapshot older than the entry's is stale and ignored. */
  version: number;
}

export function snapshotOfEvent(event: ServiceStatusEvent): RouteSnapshot {
  return {
    serviceId: event.serviceId,
    workspaceId: event.workspaceId,
    status: event.status,
    endpoints: event.endpoints,
    deleted: event.deleted,
    version: event.version,
  };
}

export function snapshotOfService(service: InferenceService): RouteSnapshot {
  return {
    serviceId: service.id,
    workspaceId: service.workspaceId,
    status: service.status,
    endpoints: service.endpoints,
    deleted: service.deletedAt !== null,
    version: service.version,
  };
}

export interface RoutingTableOptions<W extends Waiter> {
  metrics: RouterMetrics;
  logger: Logger;
  /** Called after an entry changed, so queued requests can move (new replicas) or fail (stopped, deleted). */
  onChange: (route: ServiceRoute<W>) => void;
}

/**
 * serviceId → route. Deleted services stay as tombstones (no replicas, `deleted`), so a late event from before
 * the deletion cannot bring one back; a resync drops tombstones once the store has purged the record.
 */
export class RoutingTable<W extends Waiter = Waiter> {
  private readonly routes = new Map<string, ServiceRoute<W>>();
  private readonly metrics: RouterMetrics;
  private readonly logger: Logger;
  private readonly onChange: (route: ServiceRoute<W>) => void;

  constructor(options: RoutingTableOptions<W>) {
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.onChange = options.onChange;
  }

  get(serviceId: string): ServiceRoute<W> | undefined {
    return this.routes.get(serviceId);
  }

  /**
   * A local counter of applied snapshots, so that a resync can tell which entries were touched after its store
   * read began. Only ever compared within this process, never with another host's clock.
   */
  private applied = 0;

  /** Applies a snapshot unless it is older than what the entry already reflects; returns the entry. */
  apply(snapshot: RouteSnapshot): ServiceRoute<W> {
    let route = this.routes.get(snapshot.serviceId);
    if (route !== undefined && !supersedes(snapshot.version, route.version)) return route;
    if (route === undefined) {
      route = new ServiceRoute<W>(
        snapshot.serviceId,
        snapshot.workspaceId,
        snapshot.status,
        snapshot.version,
        this.metrics.forService(snapshot.serviceId),
      );
      this.routes.set(snapshot.serviceId, route);
    } else if (route.deleted) {
      // Deletion is final; service ids are never reused.
      return route;
    }
    route.version = snapshot.version;
    route.appliedSeq = ++this.applied;
    route.workspaceId = snapshot.workspaceId;
    route.status = snapshot.status;
    if (snapshot.deleted) {
      route.deleted = true;
      route.replicas = [];
      this.metrics.forget(snapshot.serviceId);
    } else {
      route.setEndpoints(snapshot.endpoints, (endpoint) =>
        this.logger.warn({ serviceId: snapshot.serviceId, endpoint }, 'ignoring a replica endpoint that is not an http:// URL'),
      );
    }
    this.onChange(route);
    return route;
  }

  /** Taken before a full store read; pass it to {@link retainOnly} afterwards. */
  mark(): number {
    return this.applied;
  }

  /**
   * After a full read of the store: entries it no longer holds (purged) and that no snapshot touched since the
   * read began (`mark()` taken before it) are dropped.
   */
  retainOnly(present: ReadonlySet<string>, mark: number): void {
    for (const [serviceId, route] of this.routes) {
      if (present.has(serviceId) || route.appliedSeq > mark) continue;
      if (!route.deleted) {
        route.deleted = true;
        route.replicas = [];
        this.onChange(route);
      }
      this.routes.delete(serviceId);
      this.metrics.forget(serviceId);
    }
  }

  get size(): number {
    return this.routes.size;
  }

  values(): IterableIterator<ServiceRoute<W>> {
    return this.routes.values();
  }
}
