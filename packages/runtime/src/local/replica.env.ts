import { ONNXRUNTIME_ENV } from '@remotegpu/core';
import type { RuntimeServiceSpec } from '../runtime.port.js';
import { modelArtifactEnv } from '../model-artifact.env.js';
import { tuningEnv } from '../model-server.tuning.js';

/**
 * What a replica may inherit from the platform's environment, by name. Everything else stays behind:
 * RGPU_JWT_SECRET, store and bus URLs with their credentials, cloud keys, and any variable nobody listed.
 * A replica parses an uploaded model with onnxruntime; a parser bug must not hand its author the platform's
 * secrets (DESIGN §7: replicas start with an explicit allow-list of variables).
 *
 * - PATH, LANG/LANGUAGE/LC_*, TZ: how any process expects to find programs and format text and time.
 * - LD_LIBRARY_PATH: where a GPU machine keeps the CUDA/cuDNN libraries the CUDA execution provider loads.
 * - The model server's own tuning variables, so that an operator sets them once for every replica.
 * NODE_ENV and NODE_OPTIONS are not passed: the model server reads neither, and NODE_OPTIONS can load code.
 */
const INHERITED = new Set([
  'PATH',
  'LANG',
  'LANGUAGE',
  'TZ',
  'LD_LIBRARY_PATH',
  'RGPU_LOG_LEVEL',
  'RGPU_DEVICE',
  'RGPU_INTRA_OP_THREADS',
  'RGPU_DRAIN_TIMEOUT_MS',
  'RGPU_MAX_BODY_BYTES',
]);

export function isInherited(name: string): boolean {
  return INHERITED.has(name) || name.startsWith('LC_');
}

/** The replica's own directories: its HOME and TMPDIR, inside the platform's data directory. */
export interface ReplicaDirs {
  home: string;
  tmp: string;
}

/**
 * The environment a model-server replica starts with: the allow-listed part of the platform's environment,
 * plus what tells the server which model to load, where to listen (an ephemeral loopback port, reported back
 * on stdout) and which GPUs it may use. `RGPU_EXIT_ON_STDIN_CLOSE` makes the replica exit when its parent dies.
 *
 * HOME and TMPDIR point into the replica's own directory under the data directory, so that whatever a
 * library writes there (onnxruntime's telemetry queue goes to `$HOME/.cache`, its debug log to `$TMPDIR`)
 * stays in the data directory and goes away with the replica. onnxruntime's telemetry is turned off too
 * (core's `ONNXRUNTIME_ENV`): an inference platform does not report its users' models to a third party.
 */
export function replicaEnv(
  base: Readonly<Record<string, string | undefined>>,
  spec: RuntimeServiceSpec,
  gpus: readonly number[],
  dirs: ReplicaDirs,
  /** `RGPU_MODEL_TOKEN` when the artifact needs one (minted per start: see `artifactTokenEnv`). */
  secrets: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && isInherited(name)) env[name] = value;
  }
  Object.assign(env, {
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    ...ONNXRUNTIME_ENV,
    // A file path (read directly) or a URI with its sha256, downloaded and verified by the replica.
    ...modelArtifactEnv(spec.model),
    ...secrets,
    RGPU_MODEL_NAME: spec.model.name,
    RGPU_MODEL_VERSION: spec.model.version,
    RGPU_LABELS: JSON.stringify(spec.model.labels),
    PORT: '0',
    HOST: '127.0.0.1',
    RGPU_EXIT_ON_STDIN_CLOSE: '1',
    // Empty hides every GPU, so a replica that asked for none cannot grab one by accident.
    CUDA_VISIBLE_DEVICES: gpus.join(','),
  });
  if (spec.model.preprocessing) env.RGPU_PREPROCESSING = JSON.stringify(spec.model.preprocessing);
  Object.assign(env, tuningEnv(spec, env));
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
