import path from 'node:path';
import { z } from 'zod';
import { httpTimeoutsFromEnv, type HttpTimeouts } from '@remotegpu/http';
import { natsNamingFromEnv, type NatsBusOptions } from '@remotegpu/bus';
import { ConfigError } from '@remotegpu/core';

/**
 * The gateway's variables (DESIGN §7), shared by its own process (`services/gateway/dist/main.js`) and by the
 * standalone process, which runs the same gateway: one definition, so the two never disagree on a default.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const httpUrl = z.url({ protocol: /^https?$/ });
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const GATEWAY_ENV = {
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  RGPU_PUBLIC_URL: httpUrl.optional(),
  RGPU_DATA_DIR: z.string().min(1).default('./data'),
  RGPU_STORE_URL: z
    .string()
    .regex(/^(sqlite:.+|mongodb(\+srv)?:\/\/.+)$/, 'must be sqlite:<path> or mongodb://...')
    .optional(),
  RGPU_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  RGPU_ARTIFACT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  RGPU_ARTIFACT_ROOTS: z.string().optional(),
  RGPU_ARTIFACT_ALLOW_PRIVATE_HOSTS: bool.default(false),
  RGPU_ARTIFACT_MAX_BYTES: positiveInt.default(1024 ** 3),
  RGPU_ARTIFACT_FETCH_TIMEOUT_MS: positiveInt.default(60_000),
  RGPU_MAX_BODY_BYTES: positiveInt.default(10 * 1024 * 1024),
  RGPU_GRAPHQL_INTROSPECTION: bool.default(true),
  RGPU_GRAPHQL_MAX_DEPTH: positiveInt.default(8),
  RGPU_GRAPHQL_MAX_COST: positiveInt.default(5000),
  RGPU_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  RGPU_SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
};

const GatewayEnvSchema = z.object(GATEWAY_ENV);
type GatewayEnv = z.infer<typeof GatewayEnvSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What the gateway's HTTP server needs, whichever process runs it (`startGatewayServer`). */
export interface GatewayServerSettings {
  port: number;
  host: string;
  /** Base of `endpoint_url`. Absent: derived from the port actually bound (`http://localhost:<port>`). */
  publicUrl?: string;
  dataDir: string;
  storeUrl: string;
  jwtSecret?: string;
  /**
   * What artifact tokens (replicas downloading their model) are derived from; absent: `RGPU_JWT_SECRET`. Set it to
   * give the provisioner, which mints them, this secret instead of the one that signs user tokens.
   */
  artifactSecret?: string;
  artifactRoots: string[];
  artifactAllowPrivateHosts: boolean;
  artifactMaxBytes: number;
  artifactFetchTimeoutMs: number;
  maxBodyBytes: number;
  graphql: { introspection: boolean; maxDepth: number; maxCost: number };
  logLevel: LogLevel;
  shutdownGraceMs: number;
  /** How long a client may take to send a request (`RGPU_HTTP_*`, the same on every server of the platform). */
  httpTimeouts: HttpTimeouts;
}

/**
 * Parses `schema` (GATEWAY_ENV plus a process's own variables) and the HTTP timeouts. Throws a ConfigError naming
 * every variable the schema refuses; otherwise `problems` holds the HTTP timeouts' and the caller adds its own
 * checks before throwing them all at once. An empty variable means "unset", as in most shells' `VAR= cmd`.
 */
export function parseEnv<S extends z.ZodType<GatewayEnv>>(
  schema: S,
  env: Record<string, string | undefined>,
): { env: z.infer<S>; httpTimeouts: HttpTimeouts; problems: string[] } {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  const http = httpTimeoutsFromEnv(present);
  if (!parsed.success) throw new ConfigError([...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`), ...http.problems]);
  return { env: parsed.data, httpTimeouts: http.timeouts, problems: [...http.problems] };
}

/** The shared settings from parsed variables; `problems` collects what is valid alone but not in this version. */
export function gatewaySettingsOf(e: GatewayEnv, httpTimeouts: HttpTimeouts, problems: string[]): GatewayServerSettings {
  const dataDir = path.resolve(e.RGPU_DATA_DIR);
  const storeUrl = e.RGPU_STORE_URL ?? `sqlite:${path.join(dataDir, 'rgpu.db')}`;
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.RGPU_PUBLIC_URL?.replace(/\/+$/, ''),
    dataDir,
    storeUrl,
    jwtSecret: e.RGPU_JWT_SECRET,
    artifactSecret: e.RGPU_ARTIFACT_SECRET,
    artifactRoots: (e.RGPU_ARTIFACT_ROOTS ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((root) => path.resolve(root)),
    artifactAllowPrivateHosts: e.RGPU_ARTIFACT_ALLOW_PRIVATE_HOSTS,
    artifactMaxBytes: e.RGPU_ARTIFACT_MAX_BYTES,
    artifactFetchTimeoutMs: e.RGPU_ARTIFACT_FETCH_TIMEOUT_MS,
    maxBodyBytes: e.RGPU_MAX_BODY_BYTES,
    graphql: {
      introspection: e.RGPU_GRAPHQL_INTROSPECTION,
      maxDepth: e.RGPU_GRAPHQL_MAX_DEPTH,
      maxCost: e.RGPU_GRAPHQL_MAX_COST,
    },
    logLevel: e.RGPU_LOG_LEVEL,
    shutdownGraceMs: e.RGPU_SHUTDOWN_GRACE_MS,
    httpTimeouts,
  };
}

/** A variable this process cannot run without: unset, zod would only say "expected string, received undefined". */
const required = (why: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? `required: ${why}` : undefined) });

const DistributedGatewaySchema = z.object({
  ...GATEWAY_ENV,
  NATS_URL: z.string(required('the NATS server every process shares, e.g. nats://127.0.0.1:4222')).regex(/^(nats|tls):\/\/[^/]/, 'must be nats://host:port'),
  RGPU_ROUTER_URL: z.url({ protocol: /^https?$/, ...required('where REST and GraphQL predict go: a router or its load balancer, e.g. http://127.0.0.1:8081') }),
  RGPU_JWT_SECRET: z
    .string(required('the secret every process verifies tokens with (nothing is generated in distributed mode)'))
    .min(32, 'must be at least 32 characters'),
  RGPU_ROUTER_CALL_TIMEOUT_MS: positiveInt.default(35_000),
  RGPU_ROUTER_CONNECT_TIMEOUT_MS: positiveInt.default(3_000),
  RGPU_PROVISIONER_URLS: z
    .string()
    .regex(/^https?:\/\/[^\s,]+(,https?:\/\/[^\s,]+)*$/, 'must be comma-separated http(s):// URLs of the provisioners (PROVISIONER_PORT)')
    .optional(),
});

/** The gateway as its own process (distributed mode): NATS, a router to send predictions to, a shared secret. */
export interface GatewayConfig extends GatewayServerSettings {
  natsUrl: string;
  /** `RGPU_NATS_STREAM` / `RGPU_NATS_SUBJECT_PREFIX`: the same in every process of one platform. */
  natsNaming: Pick<NatsBusOptions, 'streamName' | 'subjectPrefix'>;
  /** Where REST and GraphQL predict go: one router, or the load balancer in front of several. */
  routerUrl: string;
  jwtSecret: string;
  /** A whole predict call to the router (→ 504); longer than the router's own 30 s deadline. */
  routerCallTimeoutMs: number;
  /** Connecting to the router (→ 503 with Retry-After). */
  routerConnectTimeoutMs: number;
  /** `RGPU_PROVISIONER_URLS`: where replica logs are read (the provisioners' internal endpoint); none: logs answer 503. */
  provisionerUrls: string[];
}

export { ConfigError };

/**
 * `RGPU_PUBLIC_URL` is the data plane's public address here (DESIGN §2.1): `endpoint_url` points at the routers,
 * not at this process. It defaults to `RGPU_ROUTER_URL`, right when clients reach the router as the gateway does
 * (one machine); behind a load balancer set it to the address clients use. There is no generated secret: every
 * process must verify the same tokens, so `RGPU_JWT_SECRET` is required.
 */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  const { env: e, httpTimeouts, problems } = parseEnv(DistributedGatewaySchema, env);
  const { naming, problems: natsProblems } = natsNamingFromEnv(env);
  problems.push(...natsProblems);
  const settings = gatewaySettingsOf(e, httpTimeouts, problems);
  if (problems.length) throw new ConfigError(problems);
  const routerUrl = e.RGPU_ROUTER_URL.replace(/\/+$/, '');
  return {
    ...settings,
    publicUrl: settings.publicUrl ?? routerUrl,
    jwtSecret: e.RGPU_JWT_SECRET,
    natsUrl: e.NATS_URL,
    natsNaming: naming,
    routerUrl,
    routerCallTimeoutMs: e.RGPU_ROUTER_CALL_TIMEOUT_MS,
    routerConnectTimeoutMs: e.RGPU_ROUTER_CONNECT_TIMEOUT_MS,
    provisionerUrls: e.RGPU_PROVISIONER_URLS ? e.RGPU_PROVISIONER_URLS.split(',').map((u) => u.replace(/\/+$/, '')) : [],
  };
}

