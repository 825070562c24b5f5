import { z } from 'zod';
import { ConfigError } from '@remotegpu/core';
import { GATEWAY_ENV, gatewaySettingsOf, parseEnv, type GatewayServerSettings } from '@remotegpu/gateway';

/**
 * The standalone process's configuration (DESIGN §7), parsed once at start. Every bad variable is reported
 * at once, by name, and the process exits before opening anything. The gateway's variables are the gateway
 * package's (`GATEWAY_ENV`), so this process and the gateway's own never disagree on one.
 */
const EnvSchema = z.object({
  ...GATEWAY_ENV,
  NATS_URL: z.string().regex(/^(nats|tls):\/\/.+/, 'must be nats://host:port').optional(),
  RGPU_RUNTIME: z.enum(['local', 'kubernetes']).default('local'),
  RGPU_LOCAL_GPUS: z.coerce.number().int().min(0).max(64).optional(),
  RGPU_ROUTER_QUEUE_BUDGET_MS: z.coerce.number().int().positive().default(3_000),
});

export interface StandaloneConfig extends GatewayServerSettings {
  natsUrl?: string;
  runtime: 'local' | 'kubernetes';
  localGpus?: number;
  /** The data plane's queue budget: past it (expected or real), a predict is refused with 429 + Retry-After. */
  queueBudgetMs: number;
}

export { ConfigError };

export function loadConfig(env: Record<string, string | undefined> = process.env): StandaloneConfig {
  const { env: e, httpTimeouts, problems } = parseEnv(EnvSchema, env);
  const settings = gatewaySettingsOf(e, httpTimeouts, problems);
  // One process, one in-process bus: NATS is for the services as separate processes (`npm run start:distributed`).
  if (e.NATS_URL) {
    problems.push('NATS_URL: npm start runs every service in one process on the in-process bus; unset it, or run the services as separate processes over NATS with `npm run start:distributed`');
  }
  // One process keeps its state in the embedded SQLite file. MongoDB is for state shared between hosts, which only
  // the separate processes use safely (two `npm start` on one database would each run an unelected provisioner).
  if (settings.storeUrl.startsWith('mongodb')) {
    problems.push('RGPU_STORE_URL: npm start keeps its state in SQLite (sqlite:<path>); the MongoDB store is for the separate processes of distributed mode (`npm run start:distributed`, or start:gateway / start:router / start:provisioner)');
  }
  if (e.RGPU_RUNTIME !== 'local') problems.push('RGPU_RUNTIME: npm start runs the local runtime; the kubernetes runtime runs in the provisioner process (npm run start:provisioner with RGPU_RUNTIME=kubernetes)');
  if (problems.length) throw new ConfigError(problems);
  return {
    ...settings,
    natsUrl: e.NATS_URL,
    runtime: e.RGPU_RUNTIME,
    localGpus: e.RGPU_LOCAL_GPUS,
    queueBudgetMs: e.RGPU_ROUTER_QUEUE_BUDGET_MS,
  };
}
