export * from './application/index.js';
export * from './auth/jwt.js';
export * from './gateway.js';
export * from './models/index.js';
