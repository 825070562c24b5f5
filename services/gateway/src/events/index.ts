export { bestEffortIntents, busIntentPublisher } from './bus-intents.js';
export { StatusFanout, STATUS_TOPIC, type StatusInterest } from './status-fanout.js';
export { startStatusFeed } from './status-feed.js';
export { registerStatusMetrics } from './status.metrics.js';
export { catchUpFromStore, rememberStoredVersions, statusEventOfService } from './status-catch-up.js';
