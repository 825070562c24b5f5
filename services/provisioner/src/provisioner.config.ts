import path from 'node:path';
import { httpTimeoutsFromEnv, type HttpTimeouts } from '@remotegpu/http';
import { natsNamingFromEnv, type NatsBusOptions } from '@remotegpu/bus';
import { ConfigError } from '@remotegpu/core';
import { LEASE_TIMING_DEFAULTS, type LeaseTiming } from './leader/leader-lease.nats.js';
import { FILE_DELIVERY, type ArtifactDelivery } from './artifact.delivery.js';
import { kubernetesConfigFromEnv, type ProvisionerKubernetesConfig } from './kubernetes.config.js';

/**
 * The provisioner process's configuration (DESIGN §7, distributed mode), parsed once at start; every bad variable
 * is reported at once, by name. Hand-written like the router's: a dozen numbers and strings.
 */
export interface ProvisionerConfig {
  /** `/healthz`, `/readyz`, `/metrics` (PROVISIONER_PORT, default 8082; 0 picks a free port). */
  port: number;
  host: string;
  dataDir: string;
  storeUrl: string;
  natsUrl: string;
  /** `RGPU_NATS_STREAM` / `RGPU_NATS_SUBJECT_PREFIX`: the same in every process of one platform (bus natsNamingFromEnv). */
  natsNaming: Pick<NatsBusOptions, 'streamName' | 'subjectPrefix'>;
  /** `RGPU_RUNTIME`: replicas as child processes of this provisioner (`local`) or Deployments on a cluster. */
  runtime: 'local' | 'kubernetes';
  /** GPUs the local runtime may hand out; absent: what `nvidia-smi -L` lists. */
  localGpus?: number;
  /** The cluster settings; present exactly when `runtime` is `kubernetes`. */
  kubernetes?: ProvisionerKubernetesConfig;
  lease: LeaseTiming & { bucket: string; key: string };
  resyncIntervalMs: number;
  workers: number;
  /** Deliveries of one intent before the service shows `reconcile_failing` (the consumer's MaxDeliver). */
  intentMaxDeliver: number;
  /**
   * How replicas get their model (DESIGN §2.1): `file` (they read the gateway's data directory: one host), or
   * `gateway` when `RGPU_ARTIFACT_BASE_URL` names the gateway address replicas reach (they download over HTTP).
   */
  artifactDelivery: ArtifactDelivery;
  /**
   * What artifact tokens are minted with: `RGPU_ARTIFACT_SECRET`, else `RGPU_JWT_SECRET` (the gateway derives the
   * same key from the same variable). Required with `gateway` delivery.
   */
  artifactSecret?: string;
  /** How long a minted artifact token opens its artifact (`RGPU_ARTIFACT_TOKEN_TTL_MS`, default 1 hour). */
  artifactTokenTtlMs: number;
  logLevel: LogLevel;
  shutdownGraceMs: number;
  httpTimeouts: HttpTimeouts;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

/** NATS KV bucket and key names: letters, digits, `-`, `_` (keys may also hold `.`, `/`, `=`). */
const BUCKET_NAME = /^[-\w]+$/;
const KEY_NAME = /^[-/=\w]+(\.[-/=\w]+)*$/;

export { ConfigError };

export function loadProvisionerConfig(env: Record<string, string | undefined> = process.env): ProvisionerConfig {
  const problems: string[] = [];
  // An empty variable means "unset", as in most shells' `VAR= cmd`.
  const read = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const integer = (name: string, fallback: number, min: number, max = 2 ** 31 - 1): number => {
    const text = read(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: must be an integer from ${min} to ${max}, got "${text}"`);
      return fallback;
    }
    return value;
  };
  const name = (variable: string, fallback: string, pattern: RegExp): string => {
    const value = read(variable) ?? fallback;
    if (!pattern.test(value)) problems.push(`${variable}: must be letters, digits, "-" or "_", got "${value}"`);
    return value;
  };

  const natsUrl = read('NATS_URL');
  if (natsUrl === undefined) problems.push('NATS_URL: required (the provisioner process takes its intents from NATS JetStream; `npm start` runs it in-process)');
  else if (!/^(nats|tls):\/\/.+/.test(natsUrl)) problems.push('NATS_URL: must be nats://host:port');
  const nats = natsNamingFromEnv(env);
  problems.push(...nats.problems);

  const dataDir = path.resolve(read('RGPU_DATA_DIR') ?? './data');
  const storeUrl = read('RGPU_STORE_URL') ?? `sqlite:${path.join(dataDir, 'rgpu.db')}`;
  if (!/^(sqlite:.+|mongodb(\+srv)?:\/\/.+)$/.test(storeUrl)) problems.push('RGPU_STORE_URL: must be sqlite:<path> or mongodb://...');

  const runtime = read('RGPU_RUNTIME') ?? 'local';
  if (runtime !== 'local' && runtime !== 'kubernetes') problems.push(`RGPU_RUNTIME: must be "local" or "kubernetes", got "${runtime}"`);
  const kubernetes = runtime === 'kubernetes' ? kubernetesConfigFromEnv(read, problems) : undefined;

  const localGpus = read('RGPU_LOCAL_GPUS') === undefined ? undefined : integer('RGPU_LOCAL_GPUS', 0, 0, 64);

  const ttlMs = integer('PROVISIONER_LEASE_TTL_MS', LEASE_TIMING_DEFAULTS.ttlMs, 1000);
  const renewMs = integer('PROVISIONER_LEASE_RENEW_MS', Math.min(LEASE_TIMING_DEFAULTS.renewMs, Math.floor(ttlMs / 3)), 100);
  // The leader stops leading `renewMs` before a standby may take over: at least two renewals must fit in the TTL.
  if (renewMs * 2 > ttlMs) problems.push(`PROVISIONER_LEASE_RENEW_MS: must be at most half of PROVISIONER_LEASE_TTL_MS (${ttlMs}), got ${renewMs}`);
  const pollMs = integer('PROVISIONER_LEASE_POLL_MS', Math.min(LEASE_TIMING_DEFAULTS.pollMs, renewMs), 50);

  const logLevel = read('RGPU_LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`RGPU_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);

  const http = httpTimeoutsFromEnv(env);
  problems.push(...http.problems);

  const artifactBaseUrl = read('RGPU_ARTIFACT_BASE_URL');
  let artifactDelivery: ArtifactDelivery = FILE_DELIVERY;
  if (artifactBaseUrl !== undefined) {
    if (isHttpUrl(artifactBaseUrl)) artifactDelivery = { kind: 'gateway', baseUrl: artifactBaseUrl.replace(/\/+$/, '') };
    else problems.push('RGPU_ARTIFACT_BASE_URL: must be the http(s) address replicas reach the gateway at, e.g. http://rgpu-gateway:8080');
  }
  const artifactSecret = read('RGPU_ARTIFACT_SECRET') ?? read('RGPU_JWT_SECRET');
  for (const variable of ['RGPU_ARTIFACT_SECRET', 'RGPU_JWT_SECRET']) {
    const value = read(variable);
    if (value !== undefined && Buffer.byteLength(value) < 32) problems.push(`${variable}: must be at least 32 characters`);
  }
  if (runtime === 'kubernetes' && artifactBaseUrl === undefined) {
    problems.push('RGPU_ARTIFACT_BASE_URL: required with RGPU_RUNTIME=kubernetes: pods cannot read the gateway\'s disk and download their model from this address (e.g. http://rgpu-gateway.rgpu:8080)');
  }
  if (artifactDelivery.kind === 'gateway' && artifactSecret === undefined) {
    problems.push('RGPU_ARTIFACT_SECRET: required with RGPU_ARTIFACT_BASE_URL (the same value as the gateway\'s, or set RGPU_JWT_SECRET): replicas download with tokens minted from it');
  }

  const config: ProvisionerConfig = {
    port: integer('PROVISIONER_PORT', 8082, 0, 65535),
    host: read('HOST') ?? '127.0.0.1',
    dataDir,
    storeUrl,
    natsUrl: natsUrl ?? '',
    natsNaming: nats.naming,
    runtime: runtime === 'kubernetes' ? 'kubernetes' : 'local',
    localGpus,
    ...(kubernetes ? { kubernetes } : {}),
    lease: {
      ttlMs,
      renewMs,
      pollMs,
      bucket: name('PROVISIONER_LEASE_BUCKET', 'rgpu_leases', BUCKET_NAME),
      key: name('PROVISIONER_LEASE_KEY', 'provisioner', KEY_NAME),
    },
    resyncIntervalMs: integer('PROVISIONER_RESYNC_MS', 10_000, 100),
    workers: integer('PROVISIONER_WORKERS', 4, 1, 64),
    intentMaxDeliver: integer('PROVISIONER_INTENT_MAX_DELIVER', 5, 1, 100),
    artifactDelivery,
    artifactSecret,
    artifactTokenTtlMs: integer('RGPU_ARTIFACT_TOKEN_TTL_MS', 3_600_000, 60_000, 7 * 86_400_000),
    logLevel: logLevel as LogLevel,
    // Long enough for the replicas' own grace period (10 s SIGTERM → SIGKILL) and the lease release after it.
    shutdownGraceMs: integer('RGPU_SHUTDOWN_GRACE_MS', 20_000, 1),
    httpTimeouts: http.timeouts,
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}
