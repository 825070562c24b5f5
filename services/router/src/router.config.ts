import path from 'node:path';
import { httpTimeoutsFromEnv, type HttpTimeouts } from '@remotegpu/http';
import { natsNamingFromEnv, type NatsBusOptions } from '@remotegpu/bus';
import { ConfigError } from '@remotegpu/core';

/**
 * The router process's configuration (DESIGN §7, distributed mode), parsed once at start; every bad variable
 * is reported at once, by name. Hand-written rather than zod: the router keeps to its declared dependencies,
 * and these are a dozen numbers and strings.
 */
export interface RouterConfig {
  port: number;
  host: string;
  publicUrl?: string;
  storeUrl: string;
  natsUrl?: string;
  /** `RGPU_NATS_STREAM` / `RGPU_NATS_SUBJECT_PREFIX`: the same in every process of one platform. */
  natsNaming: Pick<NatsBusOptions, 'streamName' | 'subjectPrefix'>;
  jwtSecret: string;
  requestTimeoutMs: number;
  maxInFlightPerReplica: number;
  maxQueuePerService: number;
  queueBudgetMs: number;
  ejectAfterFailures: number;
  ejectForMs: number;
  maxBodyBytes: number;
  resyncIntervalMs: number;
  logLevel: LogLevel;
  shutdownGraceMs: number;
  /** How long a client may take to send a request (`RGPU_HTTP_*`, the same on every server of the platform). */
  httpTimeouts: HttpTimeouts;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

export { ConfigError };

export function loadRouterConfig(env: Record<string, string | undefined> = process.env): RouterConfig {
  const problems: string[] = [];
  // An empty variable means "unset", as in most shells' `VAR= cmd`.
  const read = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const integer = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const text = read(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: must be an integer from ${min} to ${max}, got "${text}"`);
      return fallback;
    }
    return value;
  };

  const jwtSecret = read('RGPU_JWT_SECRET');
  if (jwtSecret === undefined) problems.push('RGPU_JWT_SECRET: required (the same secret the gateway verifies tokens with)');
  else if (jwtSecret.length < 32) problems.push('RGPU_JWT_SECRET: must be at least 32 characters');

  const publicUrl = read('RGPU_PUBLIC_URL');
  if (publicUrl !== undefined && !/^https?:\/\/[^/]/.test(publicUrl)) problems.push('RGPU_PUBLIC_URL: must be an http(s):// URL');

  const dataDir = path.resolve(read('RGPU_DATA_DIR') ?? './data');
  const storeUrl = read('RGPU_STORE_URL') ?? `sqlite:${path.join(dataDir, 'rgpu.db')}`;
  if (!/^(sqlite:.+|mongodb(\+srv)?:\/\/.+)$/.test(storeUrl)) problems.push('RGPU_STORE_URL: must be sqlite:<path> or mongodb://...');

  // With NATS the table follows status events (and re-reads the store after a reconnect); without it the store
  // alone, by frequent resync (a router beside `npm start`'s in-process bus hears nothing).
  const natsUrl = read('NATS_URL');
  if (natsUrl !== undefined && !/^(nats|tls):\/\/[^/]/.test(natsUrl)) problems.push('NATS_URL: must be nats://host:port (or tls://host:port)');

  const nats = natsNamingFromEnv(env);
  problems.push(...nats.problems);

  const logLevel = read('RGPU_LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`RGPU_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);

  const http = httpTimeoutsFromEnv(env);
  problems.push(...http.problems);

  const config: RouterConfig = {
    port: integer('ROUTER_PORT', 8081, 0, 65535),
    host: read('HOST') ?? '127.0.0.1',
    publicUrl: publicUrl?.replace(/\/+$/, ''),
    storeUrl,
    natsUrl,
    natsNaming: nats.naming,
    jwtSecret: jwtSecret ?? '',
    requestTimeoutMs: integer('RGPU_ROUTER_TIMEOUT_MS', 30_000, 1),
    maxInFlightPerReplica: integer('RGPU_ROUTER_MAX_IN_FLIGHT', 8, 1),
    maxQueuePerService: integer('RGPU_ROUTER_MAX_QUEUE', 256, 0),
    queueBudgetMs: integer('RGPU_ROUTER_QUEUE_BUDGET_MS', 3_000, 1),
    ejectAfterFailures: integer('RGPU_ROUTER_EJECT_AFTER_FAILURES', 3, 1),
    ejectForMs: integer('RGPU_ROUTER_EJECT_FOR_MS', 10_000, 1),
    maxBodyBytes: integer('RGPU_MAX_BODY_BYTES', 10 * 1024 * 1024, 1),
    // Without NATS nothing publishes to this process: the store is the only source, so read it often.
    resyncIntervalMs: integer('RGPU_ROUTER_RESYNC_MS', natsUrl === undefined ? 2_000 : 30_000, 0),
    logLevel: logLevel as LogLevel,
    shutdownGraceMs: integer('RGPU_SHUTDOWN_GRACE_MS', 10_000, 1),
    httpTimeouts: http.timeouts,
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
