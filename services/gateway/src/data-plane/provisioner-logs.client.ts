import type { Logger } from 'pino';
import { AppError, ErrorCode, followByPolling } from '@remotegpu/core';
import { logsTokenIssuer } from '@remotegpu/auth';
import type { LogLine, LogQuery, ReplicaLogSource } from '../application/logs.use-case.js';

export interface ProvisionerLogsOptions {
  /** Every provisioner of the platform: the leader has the replicas, standbys answer an empty list. */
  urls: string[];
  /** The secret logs tokens derive from (the same as the provisioners' artifact-token secret). */
  secret: string;
  timeoutMs?: number;
  /** How often a follow asks for new lines. */
  pollMs?: number;
  logger: Logger;
}

function unavailable(): AppError {
  return new AppError(
    ErrorCode.Unavailable,
    { zh: '暂时无法从 provisioner 读取副本日志，请稍后重试', en: 'The replica logs cannot be read from the provisioners right now; retry shortly' },
    { reason: 'logs_unavailable', retryAfter: 2 },
  );
}

/**
 * Replica logs in distributed mode: the gateway (after the user's token and workspace checks) asks every
 * provisioner's internal endpoint with a logs token for that one service, and merges what they answer. Following
 * polls (since the newest line seen), so no stream between the processes has to be kept or proxied.
 */
export function provisionerLogSource(options: ProvisionerLogsOptions): ReplicaLogSource {
  const tokens = logsTokenIssuer(options.secret);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pollMs = options.pollMs ?? 1_000;

  async function ask(url: string, serviceId: string, query: LogQuery, token: string): Promise<LogLine[] | null> {
    const params = new URLSearchParams();
    if (query.replica !== undefined) params.set('replica', query.replica);
    if (query.tail !== undefined) params.set('tail', String(query.tail));
    if (query.since !== undefined) params.set('since', query.since.toISOString());
    try {
      const res = await fetch(`${url}/internal/v1/services/${serviceId}/logs?${params.toString()}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status !== 200) {
        options.logger.warn({ url, status: res.status }, 'a provisioner refused a logs request');
        return null;
      }
      const body = (await res.json()) as { items?: LogLine[] };
      return Array.isArray(body.items) ? body.items : [];
    } catch (err) {
      options.logger.warn({ err, url }, 'a provisioner did not answer a logs request');
      return null;
    }
  }

  async function read(serviceId: string, query: LogQuery): Promise<LogLine[]> {
    const token = await tokens.issue(serviceId);
    const answers = await Promise.all(options.urls.map((url) => ask(url, serviceId, query, token)));
    if (answers.every((a) => a === null)) throw unavailable();
    const lines = answers.flatMap((a) => a ?? []);
    lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return query.tail !== undefined ? lines.slice(Math.max(0, lines.length - query.tail)) : lines;
  }

  return {
    read,
    async follow(serviceId, query, onLine) {
      return followByPolling((since) => read(serviceId, { replica: query.replica, since }), onLine, pollMs);
    },
  };
}
