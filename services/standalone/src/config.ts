import path from 'node:path';
import { z } from 'zod';
import { httpTimeoutsFromEnv, type HttpTimeouts } from '@remotegpu/http';
import { ConfigError } from '@remotegpu/core';

/**
 * The standalone process's configuration (DESIGN §7), parsed once at start. Every bad variable is reported
 * at once, by name, and the process exits before opening anything.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

const EnvSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  RGPU_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  RGPU_DATA_DIR: z.string().min(1).default('./data'),
  RGPU_STORE_URL: z
    .string()
    .regex(/^(sqlite:.+|mongodb(\+srv)?:\/\/.+)$/, 'must be sqlite:<path> or mongodb://...')
    .optional(),
  NATS_URL: z.string().regex(/^(nats|tls):\/\/.+/, 'must be nats://host:port').optional(),
  RGPU_RUNTIME: z.enum(['local', 'kubernetes']).default('local'),
  RGPU_LOCAL_GPUS: z.coerce.number().int().min(0).max(64).optional(),
  RGPU_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  RGPU_ARTIFACT_ROOTS: z.string().optional(),
  RGPU_ARTIFACT_ALLOW_PRIVATE_HOSTS: bool.default(false),
  RGPU_ARTIFACT_MAX_BYTES: positiveInt.default(1024 ** 3),
  RGPU_ARTIFACT_FETCH_TIMEOUT_MS: positiveInt.default(60_000),
  RGPU_MAX_BODY_BYTES: positiveInt.default(10 * 1024 * 1024),
  RGPU_ROUTER_QUEUE_BUDGET_MS: positiveInt.default(3_000),
  RGPU_GRAPHQL_INTROSPECTION: bool.default(true),
  RGPU_GRAPHQL_MAX_DEPTH: positiveInt.default(8),
  RGPU_GRAPHQL_MAX_COST: positiveInt.default(5000),
  RGPU_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RGPU_SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
});

export interface StandaloneConfig {
  port: number;
  host: string;
  /** Absent: derived from the port actually bound (`http://localhost:<port>`). */
  publicUrl?: string;
  dataDir: string;
  storeUrl: string;
  natsUrl?: string;
  runtime: 'local' | 'kubernetes';
  localGpus?: number;
  jwtSecret?: string;
  artifactRoots: string[];
  artifactAllowPrivateHosts: boolean;
  artifactMaxBytes: number;
  artifactFetchTimeoutMs: number;
  maxBodyBytes: number;
  /** The data plane's queue budget: past it (expected or real), a predict is refused with 429 + Retry-After. */
  queueBudgetMs: number;
  graphql: { introspection: boolean; maxDepth: number; maxCost: number };
  logLevel: z.infer<typeof EnvSchema>['RGPU_LOG_LEVEL'];
  shutdownGraceMs: number;
  /** How long a client may take to send a request (`RGPU_HTTP_*`, the same on every server of the platform). */
  httpTimeouts: HttpTimeouts;
}

export { ConfigError };

export function loadConfig(env: Record<string, string | undefined> = process.env): StandaloneConfig {
  // An empty variable means "unset", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  const http = httpTimeoutsFromEnv(present);
  if (!parsed.success) {
    throw new ConfigError([...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`), ...http.problems]);
  }
  const e = parsed.data;
  const problems: string[] = [];
  const dataDir = path.resolve(e.RGPU_DATA_DIR);
  const storeUrl = e.RGPU_STORE_URL ?? `sqlite:${path.join(dataDir, 'rgpu.db')}`;
  if (storeUrl.startsWith('mongodb')) problems.push('RGPU_STORE_URL: the MongoDB store is not available yet; use sqlite:<path>');
  if (e.NATS_URL) problems.push('NATS_URL: the NATS bus is not available yet; unset it to use the in-process bus');
  if (e.RGPU_RUNTIME !== 'local') problems.push('RGPU_RUNTIME: only "local" is available in this version');
  problems.push(...http.problems);
  if (problems.length) throw new ConfigError(problems);
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.RGPU_PUBLIC_URL?.replace(/\/+$/, ''),
    dataDir,
    storeUrl,
    natsUrl: e.NATS_URL,
    runtime: e.RGPU_RUNTIME,
    localGpus: e.RGPU_LOCAL_GPUS,
    jwtSecret: e.RGPU_JWT_SECRET,
    artifactRoots: (e.RGPU_ARTIFACT_ROOTS ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((root) => path.resolve(root)),
    artifactAllowPrivateHosts: e.RGPU_ARTIFACT_ALLOW_PRIVATE_HOSTS,
    artifactMaxBytes: e.RGPU_ARTIFACT_MAX_BYTES,
    artifactFetchTimeoutMs: e.RGPU_ARTIFACT_FETCH_TIMEOUT_MS,
    maxBodyBytes: e.RGPU_MAX_BODY_BYTES,
    queueBudgetMs: e.RGPU_ROUTER_QUEUE_BUDGET_MS,
    graphql: {
      introspection: e.RGPU_GRAPHQL_INTROSPECTION,
      maxDepth: e.RGPU_GRAPHQL_MAX_DEPTH,
      maxCost: e.RGPU_GRAPHQL_MAX_COST,
    },
    logLevel: e.RGPU_LOG_LEVEL,
    shutdownGraceMs: e.RGPU_SHUTDOWN_GRACE_MS,
    httpTimeouts: http.timeouts,
  };
}
