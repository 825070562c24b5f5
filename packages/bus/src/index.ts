export * from './event-bus.port.js';
export { InvalidEventError, parseEvent } from './event-validation.js';
export type { BusLogger } from './bus-logger.js';
export { InProcessBus, type InProcessBusOptions } from './in-process.bus.js';
export { NatsBus } from './nats/nats.bus.js';
export { DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX, type NatsBusOptions, type StreamLimits, type GroupSettings, type PublishSettings } from './nats/nats-bus.options.js';
export { eventSubject } from './nats/nats.subjects.js';
export { connectBus, type BusConfig } from './bus.factory.js';
export { natsNamingFromEnv } from './nats/nats.env.js';
