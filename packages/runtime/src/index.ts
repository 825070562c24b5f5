export * from './runtime.port.js';
export { LocalRuntime } from './local/local.runtime.js';
export type { LocalRuntimeOptions } from './local/local.options.js';
export { detectGpuCount } from './local/gpu.allocator.js';
export { createRuntime, type RuntimeConfig } from './runtime.factory.js';
export { MODEL_SERVER_ENV, modelArtifactEnv, artifactTokenEnv } from './model-artifact.env.js';
