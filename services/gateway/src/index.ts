export * from './application/index.js';
export * from '@remotegpu/auth';
export * from './gateway.js';
export * from './events/index.js';
export * from './models/index.js';
