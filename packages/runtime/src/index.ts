export * from './runtime.port.js';
