import { randomUUID } from 'node:crypto';
import { copyEndpoint, type InferenceService, type ReplicaEndpoint, type ServiceStatus, type ServiceStatusEvent } from '@remotegpu/core';
import type { EventBus } from '@remotegpu/bus';
import { sameEndpoints } from './status.decision.js';

/** What subscribers and the router see of a service; a change in any of these is worth an event. */
interface PublishedView {
  status: ServiceStatus;
  reason: string | null;
  readyReplicas: number;
  endpoints: ReplicaEndpoint[];
}

function viewOf(service: InferenceService): PublishedView {
  return {
    status: service.status,
    reason: service.statusReason,
    readyReplicas: service.readyReplicas,
    // Traffic stops the moment a stop or delete is requested, even while the record still lists the
    // replicas the gateway's write did not touch (the provisioner clears them on its next write).
    endpoints: service.desiredState === 'stopped' ? [] : service.endpoints,
  };
}

function sameView(a: PublishedView, b: PublishedView): boolean {
  return a.status === b.status && a.reason === b.reason && a.readyReplicas === b.readyReplicas && sameEndpoints(a.endpoints, b.endpoints);
}

export interface StatusPublisherOptions {
  bus: EventBus;
  now: () => Date;
}

/**
 * Publishes `service.status` and remembers, per service, what this instance last published. The memory is
 * what makes publishing level-triggered too: a publish that failed after its store write succeeded, or a
 * status another writer stored, is published on the next reconcile because the stored record still differs
 * from what went out. It is only a cache: after a restart, or in a second instance, the first look at a
 * service publishes only if something changed (or a user intent asked for it), and at worst an event is
 * delivered twice, which consumers tolerate (the bus is at-least-once anyway).
 */
export class StatusPublisher {
  private readonly bus: EventBus;
  private readonly now: () => Date;
  private readonly lastPublished = new Map<string, PublishedView>();

  constructor(opts: StatusPublisherOptions) {
    this.bus = opts.bus;
    this.now = opts.now;
  }

  /**
   * Publishes the record as stored when it differs from what went out last, or when nothing went out yet
   * and `force` is set (the gateway just wrote it and published an intent, not a status).
   */
  async publishIfNews(service: InferenceService, opts: { force: boolean; previousStatus: ServiceStatus | null; correlationId?: string }): Promise<boolean> {
    const last = this.lastPublished.get(service.id);
    const view = viewOf(service);
    const news = last ? !sameView(last, view) : opts.force;
    if (!news) return false;
    await this.publish(service, {
      status: service.status,
      previousStatus: last?.status ?? opts.previousStatus,
      reason: service.statusReason,
      params: service.statusParams ?? null,
      message: service.statusMessage,
      readyReplicas: view.readyReplicas,
      endpoints: view.endpoints,
      // A deleted service is gone for every consumer at once (the router answers 404, not 409 "stopping").
      deleted: service.deletedAt !== null,
      correlationId: opts.correlationId,
    });
    this.lastPublished.set(service.id, view);
    return true;
  }

  /** The finalizer's event: consumers drop the service. */
  async publishDeleted(service: InferenceService, correlationId?: string): Promise<void> {
    await this.publish(service, {
      status: 'stopped',
      previousStatus: this.lastPublished.get(service.id)?.status ?? service.status,
      reason: service.statusReason,
      params: service.statusParams ?? null,
      message: service.statusMessage,
      readyReplicas: 0,
      endpoints: [],
      deleted: true,
      correlationId,
    });
  }

  forget(serviceId: string): void {
    this.lastPublished.delete(serviceId);
  }

  private async publish(
    service: InferenceService,
    fields: Pick<ServiceStatusEvent, 'status' | 'previousStatus' | 'reason' | 'params' | 'message' | 'readyReplicas' | 'endpoints' | 'deleted' | 'correlationId'>,
  ): Promise<void> {
    const event: ServiceStatusEvent = {
      eventId: randomUUID(),
      serviceId: service.id,
      workspaceId: service.workspaceId,
      at: this.now().toISOString(),
      replicas: service.replicas,
      generation: service.generation,
      version: service.version,
      ...fields,
      endpoints: fields.endpoints.map(copyEndpoint),
    };
    if (event.correlationId === undefined) delete event.correlationId;
    await this.bus.publish('service.status', event);
  }
}
