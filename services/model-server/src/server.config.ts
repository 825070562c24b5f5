import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseBatching, parsePreprocessing, type BatchingConfig, type Preprocessing } from '@remotegpu/core';
import { httpTimeoutsFromEnv, type HttpTimeouts } from '@remotegpu/http';
import { ConfigError } from '@remotegpu/core';

/**
 * The model server's configuration, read from the environment once at start. Every bad variable is reported
 * at once, by name; `main.ts` exits with 78 (EX_CONFIG) so a supervisor can tell "will never work" from a crash.
 */
export type DeviceChoice = 'auto' | 'cpu' | 'cuda';

/**
 * Where the model comes from. `path`: a file this host can read (the local runtime's replicas, a model baked
 * into an image or mounted). `uri`: fetched by the replica itself over http(s) — the original `artifact_uri`,
 * or the gateway's artifact endpoint with a token scoped to that one artifact — verified against `sha256` and
 * cached under `cacheDir` (DESIGN §2.1: a replica on another host cannot read the gateway's disk).
 */
export type ModelSource =
  | { kind: 'path'; path: string }
  | {
      kind: 'uri';
      uri: string;
      /** Lowercase hex; a download with another digest is refused (exit 78, `artifact_checksum_mismatch`). */
      sha256: string;
      /** Sent as `Authorization: Bearer` (the gateway's artifact token); never logged. */
      token: string | null;
      /** The registered size: any other size is another artifact (exit 78, `artifact_size_mismatch`). */
      sizeBytes: number | null;
      cacheDir: string;
      maxBytes: number;
      fetchTimeoutMs: number;
    };

export interface ModelServerConfig {
  modelPath: string;
  /** How `modelPath` is obtained: read as is, or downloaded there first (then `modelPath` is the cached file). */
  modelSource: ModelSource;
  /**
   * Where the `failed` line also goes, for a supervisor that cannot read stdout: Kubernetes reads the
   * container's terminationMessagePath into `lastState.terminated.message`.
   */
  terminationMessagePath: string | null;
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
  /** RGPU_BATCHING: the version's dynamic batching; null runs every request on its own (the default). */
  batching: BatchingConfig | null;
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

// The version's `batching`, as the gateway validated it; whether the model can take a batch is decided at load.
const batching = z.unknown().transform((value, ctx): BatchingConfig | null => {
  const parsed = parseBatching(value);
  if (parsed.ok) return parsed.value;
  ctx.addIssue({ code: 'custom', message: parsed.message.en });
  return z.NEVER;
});

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const SHA256 = /^[0-9a-f]{64}$/;

const EnvSchema = z.object({
  RGPU_MODEL_PATH: z.string().min(1).optional(),
  RGPU_MODEL_URI: z
    .url({ protocol: /^https?$/, error: 'must be an absolute http:// or https:// URL' })
    .refine((u) => { const url = new URL(u); return url.username === '' && url.password === ''; }, 'must not carry credentials (use RGPU_MODEL_TOKEN)')
    .optional(),
  RGPU_MODEL_SHA256: z
    .string()
    .transform((s) => s.toLowerCase())
    .refine((s) => SHA256.test(s), 'must be the 64 hex digits of the artifact\'s sha256')
    .optional(),
  // A JWT or an opaque bearer token: visible ASCII, bounded, so it fits one header line.
  RGPU_MODEL_TOKEN: z.string().regex(/^[\x21-\x7e]{1,8192}$/, 'must be 1-8192 visible ASCII characters').optional(),
  RGPU_MODEL_CACHE_DIR: z.string().min(1).optional(),
  RGPU_MODEL_SIZE_BYTES: int(1, Number.MAX_SAFE_INTEGER).optional(),
  RGPU_MODEL_MAX_BYTES: int(1, Number.MAX_SAFE_INTEGER).default(1024 ** 3),
  RGPU_MODEL_FETCH_TIMEOUT_MS: int(1_000, 3_600_000).default(600_000),
  RGPU_TERMINATION_MESSAGE_PATH: z.string().min(1).optional(),
  TMPDIR: z.string().min(1).optional(),
  // The name and version become URL path segments, so nothing that would need escaping.
  RGPU_MODEL_NAME: z
    .string({ error: 'is required: the name served under /v2/models/{name}' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be 1-128 characters of letters, digits, ".", "_", "-"'),
  RGPU_MODEL_VERSION: z
    .string({ error: 'is required: the model version served' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, 'must be 1-64 characters of letters, digits, ".", "_", "+", "-"'),
  RGPU_LABELS: jsonOf(labels).optional(),
  RGPU_PREPROCESSING: jsonOf(preprocessing).optional(),
  RGPU_BATCHING: jsonOf(batching).optional(),
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
  problems.push(...sourceProblems(present));
  const http = httpTimeoutsFromEnv(present);
  problems.push(...http.problems);
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;
  const modelSource = modelSourceOf(e);
  return {
    modelPath: modelSource.kind === 'path' ? modelSource.path : cachedPath(modelSource.cacheDir, modelSource.sha256),
    modelSource,
    terminationMessagePath: e.RGPU_TERMINATION_MESSAGE_PATH ?? null,
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
    batching: e.RGPU_BATCHING ?? null,
    logLevel: e.RGPU_LOG_LEVEL,
    httpTimeouts: http.timeouts,
  };
}

/** Exactly one source: a path, or a URI with the checksum that makes a download trustworthy. */
function sourceProblems(env: Record<string, string | undefined>): string[] {
  const hasPath = env.RGPU_MODEL_PATH !== undefined;
  const hasUri = env.RGPU_MODEL_URI !== undefined;
  if (hasPath && hasUri) return ['RGPU_MODEL_URI: give either RGPU_MODEL_PATH or RGPU_MODEL_URI, not both'];
  if (!hasPath && !hasUri) {
    return ['RGPU_MODEL_PATH: is required (or RGPU_MODEL_URI with RGPU_MODEL_SHA256): the ONNX file to serve'];
  }
  // Without a checksum a replica would serve whatever the URL answers today.
  if (hasUri && env.RGPU_MODEL_SHA256 === undefined) return ['RGPU_MODEL_SHA256: is required with RGPU_MODEL_URI'];
  return [];
}

function modelSourceOf(e: z.infer<typeof EnvSchema>): ModelSource {
  if (e.RGPU_MODEL_URI === undefined) return { kind: 'path', path: e.RGPU_MODEL_PATH! };
  return {
    kind: 'uri',
    uri: e.RGPU_MODEL_URI,
    sha256: e.RGPU_MODEL_SHA256!,
    token: e.RGPU_MODEL_TOKEN ?? null,
    sizeBytes: e.RGPU_MODEL_SIZE_BYTES ?? null,
    // The replica's own temp dir by default (the local runtime gives each replica one; a pod mounts an emptyDir).
    cacheDir: e.RGPU_MODEL_CACHE_DIR ?? join(e.TMPDIR ?? tmpdir(), 'rgpu-model-cache'),
    // The registered size bounds the download too, whatever the general limit says.
    maxBytes: e.RGPU_MODEL_SIZE_BYTES ?? e.RGPU_MODEL_MAX_BYTES,
    fetchTimeoutMs: e.RGPU_MODEL_FETCH_TIMEOUT_MS,
  };
}

/** The cache is content-addressed: one file per digest, so two versions never share a name by accident. */
export function cachedPath(cacheDir: string, sha256: string): string {
  return join(cacheDir, `${sha256}.onnx`);
}
