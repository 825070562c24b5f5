import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { copyEndpoint, type InferenceService, type ServiceStatusEvent } from '@remotegpu/core';
import type { Store } from '@remotegpu/store';
import type { StatusFanout } from './status-fanout.js';

/**
 * A service as stored, worded as the status event its subscribers would have received. The steps in between are
 * not known, so `previousStatus` is null; `endpoints` are empty once a stop or delete was asked for, as the
 * provisioner publishes them.
 */
export function statusEventOfService(service: InferenceService): ServiceStatusEvent {
  return {
    eventId: `catch-up-${randomUUID()}`,
    serviceId: service.id,
    workspaceId: service.workspaceId,
    at: service.updatedAt,
    status: service.status,
    previousStatus: null,
    reason: service.statusReason,
    params: service.statusParams ?? null,
    message: service.statusMessage,
    readyReplicas: service.readyReplicas,
    replicas: service.replicas,
    endpoints: service.desiredState === 'stopped' ? [] : service.endpoints.map(copyEndpoint),
    generation: service.generation,
    version: service.version,
    deleted: service.deletedAt !== null,
  };
}

/**
 * After the bus reconnected (DESIGN §2.1: "after a reconnect each re-reads the store"): status events published
 * while this gateway was cut off may never reach it, so it re-reads every service and hands subscribers the
 * current state of each one whose record moved past what they last saw. Services nobody changed meanwhile send
 * nothing. A missed event thus stays missed for no longer than a reconnect, and every subscriber ends on the
 * final status. Returns how many services were caught up.
 */
export async function catchUpFromStore(store: Store, fanout: StatusFanout, logger: Logger): Promise<number> {
  const services = await store.services.listForReconcile();
  let delivered = 0;
  for (const service of services) {
    if (fanout.deliverIfNewer(statusEventOfService(service))) delivered += 1;
  }
  logger.info({ services: services.length, delivered }, 'status subscriptions caught up from the store after a bus reconnect');
  return delivered;
}

/**
 * At start, after subscribing: what the store holds now is what a new subscriber would read anyway, so a later
 * catch-up sends only what changed after this moment, not every service once.
 */
export async function rememberStoredVersions(store: Store, fanout: StatusFanout): Promise<void> {
  for (const service of await store.services.listForReconcile()) {
    fanout.remember({ serviceId: service.id, version: service.version, deleted: service.deletedAt !== null });
  }
}
