export * from './store.port.js';
