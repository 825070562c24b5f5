import { pino, type Logger } from 'pino';
import type { ArtifactTokenIssuer } from '../runtime.port.js';

export interface LocalRuntimeOptions {
  /** How to start one model-server replica, e.g. `{ command: process.execPath, args: ['services/model-server/dist/main.js'] }`. */
  modelServer: { command: string; args: string[] };
  /** Where `replicas.json` (the processes to clean up after a crash) lives. */
  stateDir: string;
  /** GPU capacity (the platform passes RGPU_LOCAL_GPUS); default: the GPUs `nvidia-smi -L` lists, 0 without it. */
  gpus?: number;
  /**
   * From spawn until the replica prints its `listening` line (Node started, model loaded), like a Kubernetes
   * startupProbe: loading a large model may take minutes. Past it the replica is killed; a failed start.
   */
  startupTimeoutMs?: number;
  /** From the `listening` line until `/v2/health/ready` answers 200; past it the replica is killed; a failed start. */
  readinessTimeoutMs?: number;
  readinessPollMs?: number;
  /** Between SIGTERM and SIGKILL. */
  gracePeriodMs?: number;
  /**
   * Restart delay after a crash: `initialMs`, doubling up to `maxMs`; back to `initialMs` once a replica
   * stayed ready for `resetAfterMs`.
   */
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** Consecutive failed starts (never ready) before the service gets a `failed` condition. */
  crashLoopLimit?: number;
  logger?: Logger;
  /**
   * The environment replicas inherit from, default `process.env`; only allow-listed variables pass
   * (PATH, locale, TZ, LD_LIBRARY_PATH, the model server's tuning variables: see `replica.env.ts`).
   */
  env?: Record<string, string | undefined>;
  /**
   * Mints the token a replica fetches an `artifact_token` artifact with (the gateway's artifact endpoint), once per
   * start, so a restart long after the first start still gets a fresh one. Not needed for `file:` artifacts.
   */
  artifactTokens?: ArtifactTokenIssuer;
}

export interface ResolvedLocalRuntimeOptions {
  modelServer: { command: string; args: string[] };
  stateDir: string;
  gpus: number | undefined;
  startupTimeoutMs: number;
  readinessTimeoutMs: number;
  readinessPollMs: number;
  gracePeriodMs: number;
  backoff: { initialMs: number; maxMs: number; resetAfterMs: number };
  crashLoopLimit: number;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  artifactTokens: ArtifactTokenIssuer | undefined;
}

export function resolveOptions(options: LocalRuntimeOptions): ResolvedLocalRuntimeOptions {
  if (options.gpus !== undefined && !(Number.isInteger(options.gpus) && options.gpus >= 0)) {
    throw new Error(`gpus must be a non-negative integer, got ${options.gpus}`);
  }
  return {
    modelServer: options.modelServer,
    stateDir: options.stateDir,
    gpus: options.gpus,
    startupTimeoutMs: options.startupTimeoutMs ?? 120_000,
    readinessTimeoutMs: options.readinessTimeoutMs ?? 60_000,
    readinessPollMs: options.readinessPollMs ?? 50,
    gracePeriodMs: options.gracePeriodMs ?? 10_000,
    backoff: {
      initialMs: options.backoff?.initialMs ?? 200,
      maxMs: options.backoff?.maxMs ?? 10_000,
      resetAfterMs: options.backoff?.resetAfterMs ?? 30_000,
    },
    crashLoopLimit: options.crashLoopLimit ?? 5,
    logger: (options.logger ?? pino({ level: 'silent' })).child({ component: 'local-runtime' }),
    env: options.env ?? process.env,
    artifactTokens: options.artifactTokens,
  };
}
