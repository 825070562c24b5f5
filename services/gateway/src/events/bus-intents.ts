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
 * The gateway's intents as the use cases get them: a publish that fails is logged, never thrown, and a publish
 * still retrying after `waitMs` (the broker is away: the bus retries, de-duplicated by eventId, for up to 30 s)
 * stops holding the request up and carries on in the background. The desired spec is already in the store when
 * an intent goes out, and the provisioner's periodic resync converges on it, so a late or lost intent only delays
 * convergence; failing or stalling the user's request for it would report a committed change as failed (and a
 * retry would then hit the duplicate-name or stale-state checks).
 */
export function bestEffortIntents(inner: IntentPublisher, logger: Logger, options: { waitMs?: number } = {}): IntentPublisher {
  const waitMs = options.waitMs ?? 2_000;
  return {
    async publish(intent, service, trace) {
      const requestId = trace?.requestId;
      const published = inner.publish(intent, service, trace).then(
        () => {
          logger.debug({ serviceId: service.id, intent, generation: service.generation, requestId }, 'intent published');
          return true;
        },
        (err: unknown) => {
          logger.warn({ err, serviceId: service.id, intent, requestId }, 'intent not published; the next resync converges');
          return true;
        },
      );
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
        timer.unref();
      });
      const done = await Promise.race([published, waited]);
      clearTimeout(timer);
      if (!done) logger.info({ serviceId: service.id, intent, requestId, waitMs }, 'intent still publishing; answering the request meanwhile');
    },
  };
}
