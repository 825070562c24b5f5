import { randomUUID } from 'node:crypto';
import type { EventBus } from '@remotegpu/bus';
import type { IntentPublisher } from '../application/ports.js';

/**
 * Intents as `service.intent` events. The payload is only a wake-up (the provisioner re-reads the Store), so
 * it carries identity and the generation, not the spec. A failed publish propagates: callers have written the
 * Store already, and the provisioner's periodic resync picks the change up even if the intent is lost.
 */
export function busIntentPublisher(bus: EventBus, now: () => Date = () => new Date()): IntentPublisher {
  return {
    async publish(intent, service) {
      await bus.publish('service.intent', {
        eventId: randomUUID(),
        serviceId: service.id,
        workspaceId: service.workspaceId,
        intent,
        generation: service.generation,
        at: now().toISOString(),
      });
    },
  };
}
