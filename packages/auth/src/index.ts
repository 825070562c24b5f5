export * from './jwt.js';
export * from './principal.js';
export * from './artifact-token.js';
export * from './logs-token.js';
