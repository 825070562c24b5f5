import { HTTP_TIMEOUT_DEFAULTS, type HttpTimeouts } from './server.timeouts.js';

/** The environment variables every HTTP server of the platform reads its client timeouts from (README). */
export const HTTP_TIMEOUT_VARIABLES: Readonly<Record<keyof HttpTimeouts, string>> = {
  headersTimeoutMs: 'RGPU_HTTP_HEADERS_TIMEOUT_MS',
  bodyTimeoutMs: 'RGPU_HTTP_BODY_TIMEOUT_MS',
  bodyMinBytesPerSecond: 'RGPU_HTTP_BODY_MIN_BYTES_PER_S',
  keepAliveTimeoutMs: 'RGPU_HTTP_KEEP_ALIVE_TIMEOUT_MS',
};

/**
 * Reads the timeouts from `env` (an empty variable means unset), defaults for the rest. Each bad variable
 * becomes one problem naming it, for the service's own configuration error, which reports all at once.
 */
export function httpTimeoutsFromEnv(env: Record<string, string | undefined>): { timeouts: HttpTimeouts; problems: string[] } {
  const timeouts = { ...HTTP_TIMEOUT_DEFAULTS };
  const problems: string[] = [];
  for (const key of Object.keys(HTTP_TIMEOUT_VARIABLES) as (keyof HttpTimeouts)[]) {
    const name = HTTP_TIMEOUT_VARIABLES[key];
    const text = env[name];
    if (text === undefined || text === '') continue;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
      problems.push(`${name}: must be a positive integer, got "${text}"`);
      continue;
    }
    timeouts[key] = value;
  }
  return { timeouts, problems };
}
