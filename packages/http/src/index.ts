export { ClientGoneError, readBody } from './body.reader.js';
export { sendErrorAnswer, sendJson } from './error.writer.js';
