export * from './errors.js';
export * from './ids.js';
export * from './service.js';
export * from './lifecycle.js';
export * from './model.js';
export * from './validation.js';
export * from './events.js';
export * from './i18n.js';
