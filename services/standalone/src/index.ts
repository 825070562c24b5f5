export * from './config.js';
export * from './platform.js';
export * from './secret.js';
