import { randomUUID } from 'node:crypto';
import type { EventBus } from '@remotegpu/bus';
import type { Logger } from 'pino';
import type { IntentPublisher } from '../application/ports.js';

/**
 * Intents as `service.intent` events. The payload is only a wake-up (the provisioner re-reads the Store), so
 * it carries identity and the generation, not the spec. A failed publish propagates: callers have written the
 * Store already, and the provisioner's periodic resync picks the change up even if the intent is lost.
 */
export function busIntentPublisher(bus: EventBus, now: () => Date = () => new Date()): IntentPublisher {
  return {
    async publish(intent, service, trace) {
      await bus.publish('service.intent', {
        eventId: randomUUID(),
        serviceId: service.id,
        workspaceId: service.workspaceId,
        intent,
        generation: service.generation,
        at: now().toISOString(),
        // The request's x-request-id: the provisioner logs it and carries it on into the status events it causes.
        ...(trace?.requestId ? { correlationId: trace.requestId } : {}),
      });
    },
  };
}

/**
 * The gateway's intents as the use cases get them: a publish that fails is logged, never thrown. The desired
 * spec is already in the store when an intent goes out, and the provisioner's periodic resync converges on it,
 * so a lost intent only delays convergence; failing the user's request for it would report a change as failed
 * that is in fact committed (and a retry would then hit the duplicate-name or stale-state checks).
 */
export function bestEffortIntents(inner: IntentPublisher, logger: Logger): IntentPublisher {
  return {
    publish: (intent, service, trace) =>
      inner.publish(intent, service, trace).then(
        () => logger.debug({ serviceId: service.id, intent, generation: service.generation, requestId: trace?.requestId }, 'intent published'),
        (err: unknown) => {
          logger.warn({ err, serviceId: service.id, intent, requestId: trace?.requestId }, 'intent not published; the next resync converges');
        },
      ),
  };
}
