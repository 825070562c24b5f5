import type { RuntimeServiceSpec } from '../runtime.port.js';

/**
 * The environment a model-server replica starts with: the runtime's base environment plus what tells the
 * server which model to load, where to listen (an ephemeral loopback port, reported back on stdout) and
 * which GPUs it may use. `RGPU_EXIT_ON_STDIN_CLOSE` makes the replica exit when its parent dies.
 */
export function replicaEnv(base: NodeJS.ProcessEnv, spec: RuntimeServiceSpec, gpus: readonly number[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    RGPU_MODEL_PATH: spec.model.artifactPath,
    RGPU_MODEL_NAME: spec.model.name,
    RGPU_MODEL_VERSION: spec.model.version,
    RGPU_LABELS: JSON.stringify(spec.model.labels),
    PORT: '0',
    HOST: '127.0.0.1',
    RGPU_EXIT_ON_STDIN_CLOSE: '1',
    // Empty hides every GPU, so a replica that asked for none cannot grab one by accident.
    CUDA_VISIBLE_DEVICES: gpus.join(','),
  };
  if (spec.model.preprocessing) env.RGPU_PREPROCESSING = JSON.stringify(spec.model.preprocessing);
  else delete env.RGPU_PREPROCESSING;
  return env;
}

/**
 * What identifies a replica's template: everything in the spec except the replica count and generation
 * (a scale bumps the generation too, and must not roll anything). Keys are sorted so that two equal specs
 * built in another key order do not look different.
 */
export function templateOf(spec: RuntimeServiceSpec): string {
  const { replicas: _replicas, generation: _generation, ...template } = spec;
  return JSON.stringify(template, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
}
