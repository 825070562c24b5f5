export { main, buildProgram, EXIT } from './main.js';
export { ApiClient, ApiError } from './api.client.js';
export { configPath } from './config.store.js';
