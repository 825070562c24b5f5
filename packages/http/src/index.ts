export { ClientGoneError, readBody } from './body.reader.js';
export { sendErrorAnswer, sendJson } from './error.writer.js';
export { applyHttpTimeouts, HTTP_TIMEOUT_DEFAULTS } from './server.timeouts.js';
export type { HttpTimeouts } from './server.timeouts.js';
export { httpTimeoutsFromEnv, HTTP_TIMEOUT_VARIABLES } from './server.timeouts.env.js';
