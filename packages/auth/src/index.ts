export * from './jwt.js';
export * from './principal.js';
