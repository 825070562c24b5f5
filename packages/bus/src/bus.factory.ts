import type { BusLogger } from './bus-logger.js';
import type { EventBus } from './event-bus.port.js';
import { InProcessBus } from './in-process.bus.js';
import { NatsBus } from './nats/nats.bus.js';
import type { NatsBusOptions } from './nats/nats-bus.options.js';

export interface BusConfig {
  /** `NATS_URL`; unset → the in-process bus (standalone: one process holds every publisher and subscriber). */
  natsUrl?: string;
  logger?: BusLogger;
  /** NATS only: shown by the server for this connection, e.g. `provisioner`. */
  connectionName?: string;
  /** NATS only: everything else the JetStream adapter takes (stream name, subject prefix, limits); tests isolate with these. */
  nats?: Omit<NatsBusOptions, 'url' | 'logger' | 'connectionName'>;
}

/**
 * The EventBus adapter the configuration names (DESIGN §7), chosen at the edge, never by a use case.
 * With `natsUrl`: NATS JetStream, connected and with its stream in place; rejects when the server cannot be
 * reached (the message names NATS_URL).
 */
export async function connectBus(config: BusConfig): Promise<EventBus> {
  if (config.natsUrl === undefined || config.natsUrl === '') return new InProcessBus({ logger: config.logger });
  return NatsBus.connect({ ...config.nats, url: config.natsUrl, logger: config.logger, connectionName: config.connectionName });
}
