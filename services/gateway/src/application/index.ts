export * from './principal.js';
export * from './ports.js';
export * from './services.use-cases.js';
export * from './models.use-cases.js';
export * from './predict.use-case.js';
export * from './idempotency.js';
export * from './models.delete.js';
export * from './logs.use-case.js';
