export * from './event-bus.port.js';
export { InvalidEventError, parseEvent } from './event-validation.js';
export type { BusLogger } from './bus-logger.js';
export { InProcessBus, type InProcessBusOptions } from './in-process.bus.js';
export { connectBus, type BusConfig } from './bus.factory.js';
