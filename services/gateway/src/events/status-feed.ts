import type { EventBus, Subscription } from '@remotegpu/bus';
import type { StatusFanout } from './status-fanout.js';

/**
 * Feeds `service.status` events from the bus into the GraphQL fan-out. One plain (non-group) subscription
 * per gateway: every gateway instance must see every event, because each serves its own sockets.
 */
export function startStatusFeed(bus: EventBus, fanout: StatusFanout): Promise<Subscription> {
  return bus.subscribe('service.status', (event) => fanout.deliver(event));
}
