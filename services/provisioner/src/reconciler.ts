import { assertNever, englishStatusMessage, ErrorCode, isAppError, isStaleWrite, type InferenceService } from '@remotegpu/core';
import type { EventBus } from '@remotegpu/bus';
import type { Runtime } from '@remotegpu/runtime';
import type { Store } from '@remotegpu/store';
import type { Logger } from 'pino';
import {
  decideModelVersionMissing,
  decideRunning,
  decideStopped,
  holdsAnything,
  REASONS,
  runtimeSpec,
  statusPatch,
  type StatusView,
} from './status.decision.js';
import { StatusPublisher } from './status.publisher.js';
import { FILE_DELIVERY, type ArtifactDelivery } from './artifact.delivery.js';
import { QUIET_WAKE, type Wake } from './work-queue.js';

export interface ReconcilerOptions {
  store: Store;
  bus: EventBus;
  runtime: Runtime;
  logger: Logger;
  now: () => Date;
  /** How replicas get their model (default `file`: the runtime shares the gateway's data directory). */
  artifactDelivery?: ArtifactDelivery;
}

/** What one reconcile did, for logs and tests. */
export type ReconcileOutcome =
  /** The record already described the runtime; nothing written. */
  | 'unchanged'
  | 'updated'
  /** Deleted, but replicas are still terminating: the finalizer runs again on the next wake-up. */
  | 'terminating'
  | 'purged'
  /** The store has no record: whatever the runtime held was removed. */
  | 'orphan_removed';

/** A stale optimistic write is re-read and re-decided this many times before the reconcile fails (and backs off). */
const MAX_ATTEMPTS = 5;

/**
 * One reconcile of one service: read the desired spec, converge the runtime, write back what it shows,
 * publish what changed. Every step is idempotent and re-derived from the store and the runtime, so a crash
 * at any line is repaired by the next reconcile; the caller guarantees one reconcile per service at a time
 * within this process, and optimistic writes make two processes safe.
 */
export class Reconciler {
  private readonly store: Store;
  private readonly runtime: Runtime;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly artifactDelivery: ArtifactDelivery;
  private readonly publisher: StatusPublisher;
  /**
   * The correlation id of the user request a service is still carrying out, per service: the reconciles woken by
   * the runtime (replicas becoming ready) belong to that request too, so their logs and status events carry its id
   * until the service settles. Cleared when it settles, is purged, or a newer request replaces it.
   */
  private readonly operations = new Map<string, string>();

  constructor(opts: ReconcilerOptions) {
    this.store = opts.store;
    this.runtime = opts.runtime;
    this.logger = opts.logger;
    this.now = opts.now;
    this.artifactDelivery = opts.artifactDelivery ?? FILE_DELIVERY;
    this.publisher = new StatusPublisher({ bus: opts.bus, now: opts.now });
  }

  async reconcile(serviceId: string, woken: Wake = QUIET_WAKE): Promise<ReconcileOutcome> {
    if (woken.correlationId !== undefined) this.operations.set(serviceId, woken.correlationId);
    const correlationId = woken.correlationId ?? this.operations.get(serviceId);
    const wake: Wake = correlationId === undefined ? woken : { ...woken, correlationId };
    const log = this.logger.child(wake.correlationId ? { serviceId, correlationId: wake.correlationId } : { serviceId });
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.attempt(serviceId, wake, log, attempt === 1);
        // A user's intent (it carries the request's correlation id) is logged at info: one line per request.
        if (wake.announce) log.info({ outcome, attempt }, 'reconciled');
        else log.debug({ outcome, attempt }, 'reconciled');
        return outcome;
      } catch (err) {
        if (!isLostRace(err) || attempt >= MAX_ATTEMPTS) throw err;
        log.debug({ attempt }, 'record changed during reconcile; re-reading');
      }
    }
  }

  /**
   * An intent for the service was given up after its last delivery: keep its status, and say in its reason why
   * it does not move (DESIGN §2.1). A later successful reconcile clears the reason, as any decision does.
   */
  async markFailing(serviceId: string, failure: { error: unknown; deliveries: number; correlationId?: string }): Promise<void> {
    const params = { deliveries: failure.deliveries, error: errorSummary(failure.error) };
    for (let attempt = 1; ; attempt++) {
      const service = await this.store.services.getIncludingDeleted(serviceId);
      if (!service || service.deletedAt !== null) return;
      try {
        const stored = await this.store.services.update(service.id, service.version, {
          statusReason: REASONS.reconcileFailing,
          statusParams: params,
          statusMessage: englishStatusMessage(REASONS.reconcileFailing, params),
          updatedAt: this.now().toISOString(),
        });
        await this.publisher.publishIfNews(stored, { force: true, previousStatus: null, correlationId: failure.correlationId });
        return;
      } catch (err) {
        if (!isLostRace(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  private async attempt(serviceId: string, wake: Wake, log: Logger, first: boolean): Promise<ReconcileOutcome> {
    const service = await this.store.services.getIncludingDeleted(serviceId);
    if (!service) {
      await this.runtime.remove(serviceId);
      this.publisher.forget(serviceId);
      this.operations.delete(serviceId);
      return 'orphan_removed';
    }
    // The gateway writes user-driven statuses (creating, stopping) itself and only publishes an intent; pass
    // its write on before converging, or a fast runtime would turn `stopping` into `stopped` unseen.
    if (wake.announce && first) {
      await this.publisher.publishIfNews(service, { force: true, previousStatus: null, correlationId: wake.correlationId });
    }
    if (service.deletedAt !== null) return this.finalize(service, wake, log);

    let view: StatusView;
    switch (service.desiredState) {
      case 'running':
        view = await this.converge(service);
        break;
      case 'stopped':
        view = await this.release(service);
        break;
      default:
        return assertNever(service.desiredState);
    }
    return this.writeBack(service, view, wake, log);
  }

  private async converge(service: InferenceService): Promise<StatusView> {
    const version = await this.store.models.getVersion(service.modelId, service.modelVersion);
    if (!version) return decideModelVersionMissing(service, await this.runtime.observe(service.id));
    // Always applied: apply is idempotent, and it is what recreates replicas after a runtime restart.
    await this.runtime.apply(runtimeSpec(service, version, this.artifactDelivery));
    return decideRunning(service, await this.runtime.observe(service.id));
  }

  private async release(service: InferenceService): Promise<StatusView> {
    let observation = await this.runtime.observe(service.id);
    if (holdsAnything(observation)) {
      // Stopped, not deleted: the runtime may keep the service's objects for a later start (Kubernetes: scale to 0).
      await this.runtime.pause(service.id);
      observation = await this.runtime.observe(service.id);
    }
    return decideStopped(service, observation);
  }

  /**
   * The finalizer: a deleted record stays (hidden) until its replicas are gone, so a crash before that point
   * is finished by the next reconcile. The final event goes out before the purge: after a crash between the
   * two it is published again (at-least-once); purging first could lose it for good.
   */
  private async finalize(service: InferenceService, wake: Wake, log: Logger): Promise<ReconcileOutcome> {
    let observation = await this.runtime.observe(service.id);
    if (holdsAnything(observation)) {
      await this.runtime.remove(service.id);
      observation = await this.runtime.observe(service.id);
    }
    if (observation.replicas.length > 0) return 'terminating';
    await this.publisher.publishDeleted(service, wake.correlationId);
    await this.store.services.purge(service.id);
    this.publisher.forget(service.id);
    this.operations.delete(service.id);
    log.info('service deleted and purged');
    return 'purged';
  }

  private async writeBack(service: InferenceService, view: StatusView, wake: Wake, log: Logger): Promise<ReconcileOutcome> {
    const patch = statusPatch(service, view);
    let stored = service;
    if (patch) {
      const at = this.now().toISOString();
      const statusChanged = view.status !== service.status;
      stored = await this.store.services.update(
        service.id,
        service.version,
        { ...patch, updatedAt: at },
        statusChanged
          ? { type: 'status_changed', status: view.status, reason: view.statusReason, params: view.statusParams, message: view.statusMessage, at }
          : undefined,
      );
      if (statusChanged) {
        log.info({ from: service.status, to: view.status, reason: view.statusReason }, 'status changed');
      }
    }
    const visibleChange =
      patch !== null && (patch.status !== undefined || patch.statusReason !== undefined || patch.readyReplicas !== undefined || patch.endpoints !== undefined);
    // After the write: a subscriber that reads the service on an event must find what the event says.
    await this.publisher.publishIfNews(stored, {
      force: visibleChange || wake.announce,
      previousStatus: visibleChange ? service.status : null,
      correlationId: wake.correlationId,
    });
    if (settled(stored)) this.operations.delete(stored.id);
    return patch ? 'updated' : 'unchanged';
  }
}

/** Nothing left to do for the last request: the status is final for it and describes the current spec. */
function settled(service: InferenceService): boolean {
  if (service.observedGeneration !== service.generation) return false;
  switch (service.status) {
    case 'running':
      return service.readyReplicas === service.replicas;
    case 'stopped':
    case 'failed':
      return true;
    case 'creating':
    case 'updating':
    case 'stopping':
      return false;
    default:
      return assertNever(service.status);
  }
}

/** Another writer got there first (stale version), or deleted the record meanwhile: re-read and re-decide. */
function isLostRace(err: unknown): boolean {
  return isStaleWrite(err) || (isAppError(err) && err.code === ErrorCode.NotFound);
}

/** The error as one short line for the service's reason (users read it): its message, bounded. */
function errorSummary(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim() || 'unknown error';
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
