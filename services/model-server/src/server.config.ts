import { z } from 'zod';
import { parsePreprocessing, type Preprocessing } from '@remotegpu/core';
import { httpTimeoutsFromEnv, type HttpTimeouts } from '@remotegpu/http';
import { ConfigError } from '@remotegpu/core';

/**
 * The model server's configuration, read from the environment once at start. Every bad variable is reported
 * at once, by name; `main.ts` exits with 78 (EX_CONFIG) so a supervisor can tell "will never work" from a crash.
 */
export type DeviceChoice = 'auto' | 'cpu' | 'cuda';

export interface ModelServerConfig {
  modelPath: string;
  /** The name served under OIP v2 (`/v2/models/{name}`); the platform passes the service id. */
  modelName: string;
  modelVersion: string;
  labels: string[];
  preprocessing: Preprocessing | null;
  port: number;
  host: string;
  device: DeviceChoice;
  /** Whether `CUDA_VISIBLE_DEVICES` names at least one GPU (what `auto` decides on). */
  gpuAssigned: boolean;
  maxBodyBytes: number;
  drainTimeoutMs: number;
  exitOnStdinClose: boolean;
  intraOpThreads?: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long a client may take to send a request (`RGPU_HTTP_*`, the same on every server of the platform). */
  httpTimeouts: HttpTimeouts;
}

export { ConfigError };

/** JSON text in an environment variable, parsed and then checked by `schema`. */
function jsonOf<T extends z.ZodType>(schema: T) {
  return z.string().transform((text, ctx): z.infer<T> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
      return z.NEVER;
    }
    const checked = schema.safeParse(value);
    if (!checked.success) {
      ctx.addIssue({ code: 'custom', message: checked.error.issues.map((i) => i.message).join('; ') });
      return z.NEVER;
    }
    return checked.data;
  });
}

const labels = z
  .array(z.string().min(1).max(256), { error: 'must be a JSON array of class names' })
  .min(1, 'must name at least one class');

// The shape only, by core's parser (the gateway's too); whether the values fit the model is decided at load by
// core's imageClassifierSignature, once the model's signature is known.
const preprocessing = z.unknown().transform((value, ctx): Preprocessing | null => {
  const parsed = parsePreprocessing(value);
  if (parsed.ok) return parsed.value;
  ctx.addIssue({ code: 'custom', message: parsed.message.en });
  return z.NEVER;
});

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z.object({
  RGPU_MODEL_PATH: z.string({ error: 'is required: the path of the ONNX file to serve' }).min(1),
  // The name and version become URL path segments, so nothing that would need escaping.
  RGPU_MODEL_NAME: z
    .string({ error: 'is required: the name served under /v2/models/{name}' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be 1-128 characters of letters, digits, ".", "_", "-"'),
  RGPU_MODEL_VERSION: z
    .string({ error: 'is required: the model version served' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, 'must be 1-64 characters of letters, digits, ".", "_", "+", "-"'),
  RGPU_LABELS: jsonOf(labels).optional(),
  RGPU_PREPROCESSING: jsonOf(preprocessing).optional(),
  PORT: int(0, 65535).default(0),
  HOST: z.string().min(1).default('127.0.0.1'),
  RGPU_DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  RGPU_MAX_BODY_BYTES: int(1, 2 ** 31 - 1).default(10 * 1024 * 1024),
  RGPU_DRAIN_TIMEOUT_MS: int(0, 3_600_000).default(10_000),
  RGPU_EXIT_ON_STDIN_CLOSE: z.enum(['0', '1']).default('0'),
  RGPU_INTRA_OP_THREADS: int(1, 1024).optional(),
  RGPU_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CUDA_VISIBLE_DEVICES: z.string().optional(),
});

/**
 * CUDA reads the list up to the first entry it cannot parse, so a GPU is assigned when the first entry is an
 * index or a GPU/MIG UUID; `""`, `-1`, `none` or `NoDevFiles` hide every GPU.
 */
export function namesAGpu(cudaVisibleDevices: string | undefined): boolean {
  const first = (cudaVisibleDevices ?? '').split(',')[0].trim();
  return /^\d+$/.test(first) || /^(GPU|MIG)-[0-9a-f-]+/i.test(first);
}

export function loadConfig(env: Record<string, string | undefined> = process.env): ModelServerConfig {
  // An empty variable means "unset", as in most shells' `VAR= cmd` (CUDA_VISIBLE_DEVICES="" still hides GPUs).
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // Labels are required, but reported here so that a missing one is named like every other problem.
  if (present.RGPU_LABELS === undefined) problems.push('RGPU_LABELS: is required: a JSON array of class names, one per model output');
  const http = httpTimeoutsFromEnv(present);
  problems.push(...http.problems);
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    modelPath: e.RGPU_MODEL_PATH,
    modelName: e.RGPU_MODEL_NAME,
    modelVersion: e.RGPU_MODEL_VERSION,
    labels: e.RGPU_LABELS!,
    preprocessing: e.RGPU_PREPROCESSING ?? null,
    port: e.PORT,
    host: e.HOST,
    device: e.RGPU_DEVICE,
    gpuAssigned: namesAGpu(e.CUDA_VISIBLE_DEVICES),
    maxBodyBytes: e.RGPU_MAX_BODY_BYTES,
    drainTimeoutMs: e.RGPU_DRAIN_TIMEOUT_MS,
    exitOnStdinClose: e.RGPU_EXIT_ON_STDIN_CLOSE === '1',
    intraOpThreads: e.RGPU_INTRA_OP_THREADS,
    logLevel: e.RGPU_LOG_LEVEL,
    httpTimeouts: http.timeouts,
  };
}
