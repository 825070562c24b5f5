import { AppError, ErrorCode, errors, type FieldError } from '@remotegpu/core';
import type { AppDeps } from './ports.js';
import type { Principal } from './principal.js';
import { getService } from './services.use-cases.js';

/** One line a replica wrote; the same shape as the runtime port's `ReplicaLogLine`. */
export interface LogLine {
  replica: string;
  at: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface LogQuery {
  replica?: string;
  tail?: number;
  since?: Date;
}

/**
 * Where replica logs come from: the runtime (standalone wires the local runtime in). The gateway of distributed mode
 * holds no runtime and has none (logs answer 503 there, see README).
 */
export interface ReplicaLogSource {
  read(serviceId: string, query: LogQuery): Promise<LogLine[]>;
  follow(serviceId: string, query: LogQuery, onLine: (line: LogLine) => void): Promise<{ close(): void }>;
}

export const LOG_TAIL_DEFAULT = 100;
export const LOG_TAIL_MAX = 5000;
const REPLICA_PATTERN = /^[a-z0-9][a-z0-9-]{0,99}$/;
const DURATION_PATTERN = /^(\d{1,7})(s|m|h)$/;
const TIME_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)$/;

export interface ParsedLogQuery extends LogQuery {
  tail: number;
  follow: boolean;
}

function single(raw: unknown): string | undefined | null {
  if (raw === undefined) return undefined;
  return typeof raw === 'string' ? raw : null;
}

/**
 * `replica` (a replica id of the service), `tail` (1–5000, default 100), `since` (RFC 3339 time, or a duration
 * like `90s`, `10m`, `2h` back from now, as kubectl takes), `follow` (`true`/`false`). Each bad one is a field error.
 */
export function parseLogQuery(query: Record<string, unknown>, now: Date): ParsedLogQuery {
  const fields: FieldError[] = [];
  const out: ParsedLogQuery = { tail: LOG_TAIL_DEFAULT, follow: false };
  const replica = single(query.replica);
  if (replica !== undefined && replica !== '') {
    if (replica === null || !REPLICA_PATTERN.test(replica)) fields.push({ field: 'replica', message: { zh: '不是有效的副本标识', en: 'is not a replica id' } });
    else out.replica = replica;
  }
  const tail = single(query.tail);
  if (tail !== undefined) {
    const n = tail !== null && /^\d{1,6}$/.test(tail) ? Number(tail) : NaN;
    if (!(n >= 1 && n <= LOG_TAIL_MAX)) {
      fields.push({ field: 'tail', message: { zh: `必须是 1 到 ${LOG_TAIL_MAX} 的整数`, en: `must be an integer from 1 to ${LOG_TAIL_MAX}` } });
    } else out.tail = n;
  }
  const since = single(query.since);
  if (since !== undefined && since !== '') {
    const duration = since === null ? null : DURATION_PATTERN.exec(since);
    const time = since !== null && TIME_PATTERN.test(since) ? new Date(since) : null;
    if (duration) out.since = new Date(now.getTime() - Number(duration[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[duration[2] as 's' | 'm' | 'h']);
    else if (time && !Number.isNaN(time.getTime())) out.since = time;
    else fields.push({ field: 'since', message: { zh: '必须是 RFC 3339 时间或时长（如 10m）', en: 'must be an RFC 3339 time or a duration such as 10m' } });
  }
  const follow = single(query.follow);
  if (follow !== undefined) {
    if (follow === 'true' || follow === '1') out.follow = true;
    else if (follow !== 'false' && follow !== '0' && follow !== '') fields.push({ field: 'follow', message: { zh: '必须是 true 或 false', en: 'must be true or false' } });
  }
  if (fields.length > 0) throw errors.invalidInput(fields);
  return out;
}

function logsUnavailable(): AppError {
  return new AppError(
    ErrorCode.Unavailable,
    {
      zh: '此网关进程不运行副本，无法读取日志（分布式模式下日志由 provisioner 提供，见 README）',
      en: 'This gateway process runs no replicas and cannot read their logs (in distributed mode the provisioner holds them; see the README)',
    },
    { reason: 'logs_unavailable' },
  );
}

function source(deps: AppDeps): ReplicaLogSource {
  if (!deps.logs) throw logsUnavailable();
  return deps.logs;
}

/** The service's recent replica lines, oldest first; another workspace's service is 404. */
export async function readServiceLogs(deps: AppDeps, principal: Principal, id: string, query: LogQuery): Promise<LogLine[]> {
  const service = await getService(deps, principal, id);
  return source(deps).read(service.id, query);
}

/** New lines as they come, until `close()`; checked like `readServiceLogs` before anything is followed. */
export async function followServiceLogs(
  deps: AppDeps,
  principal: Principal,
  id: string,
  query: LogQuery,
  onLine: (line: LogLine) => void,
): Promise<{ close(): void }> {
  const service = await getService(deps, principal, id);
  return source(deps).follow(service.id, query, onLine);
}
