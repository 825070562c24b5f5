/**
 * The model server is a process (`node services/model-server/dist/main.js`); this entry only shares what its
 * launchers need to speak with it: the stdout protocol and the configuration reader (for tests and docs).
 */
export { EXIT_CONFIG, listeningLine, failedLine, parseStdoutEvent } from './stdout.protocol.js';
export type { StdoutEvent, FailureParams } from './stdout.protocol.js';
export { loadConfig, ConfigError, namesAGpu, cachedPath } from './server.config.js';
export type { ModelServerConfig, DeviceChoice, ModelSource } from './server.config.js';
export { modelServerEntry } from './entry.locator.js';
