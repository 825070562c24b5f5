export { createRouter, ROUTER_DEFAULTS, type Router, type RouterOptions } from './router.js';
export type { Predictor, PredictRequest, Prediction, PredictCallOptions } from './predictor.js';
export { PrincipalCache, type PrincipalCacheOptions } from './principal-cache.js';
export { languageOf } from './router.errors.js';
