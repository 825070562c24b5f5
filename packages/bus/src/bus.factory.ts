import { ConfigError } from '@remotegpu/core';
import type { BusLogger } from './bus-logger.js';
import type { EventBus } from './event-bus.port.js';
import { InProcessBus } from './in-process.bus.js';

export interface BusConfig {
  /** `NATS_URL`; unset → the in-process bus (standalone: one process holds every publisher and subscriber). */
  natsUrl?: string;
  logger?: BusLogger;
}

/** The EventBus adapter the configuration names (DESIGN §7), chosen at the edge, never by a use case. */
export async function connectBus(config: BusConfig): Promise<EventBus> {
  if (config.natsUrl === undefined || config.natsUrl === '') return new InProcessBus({ logger: config.logger });
  throw new ConfigError(['NATS_URL: the NATS JetStream bus is not available in this version; unset it to use the in-process bus']);
}
