import { Gauge, type Registry } from 'prom-client';
import type { StatusFanout } from './status-fanout.js';

const NAME = 'graphql_subscriptions_active';

/**
 * `graphql_subscriptions_active`: open status subscriptions of this gateway, read from the fan-out when
 * scraped. A count that only grows means subscriptions are not cleaned up when sockets go away.
 */
export function registerStatusMetrics(registry: Registry, fanout: StatusFanout): void {
  // The newest gateway on a registry reports: a gauge's collect callback belongs to one fan-out.
  registry.removeSingleMetric(NAME);
  new Gauge({
    name: NAME,
    help: 'Open GraphQL status subscriptions (graphql-ws) of this gateway',
    registers: [registry],
    collect() {
      this.set(fanout.size);
    },
  });
}
