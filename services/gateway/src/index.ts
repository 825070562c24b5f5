export * from './application/index.js';
export * from '@remotegpu/auth';
export * from './gateway.js';
export * from './events/index.js';
export * from './models/index.js';
export * from './gateway.config.js';
export * from './gateway.server.js';
export { createRouterPredictor, type RouterPredictor, type RouterPredictorOptions } from './data-plane/router.predictor.js';
