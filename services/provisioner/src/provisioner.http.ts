import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { errors, languageOf } from '@remotegpu/core';
import { sendErrorAnswer, sendJson } from '@remotegpu/http';
import type { ReplicaLogQuery, Runtime } from '@remotegpu/runtime';
import type { LeaseRole } from './leader/leader-lease.port.js';

/** The internal logs endpoint (distributed mode): gateways read the replicas' lines here, with a logs token. */
export interface LogsEndpoint {
  /** True for a logs token minted for this service (`@remotegpu/auth` logsTokenVerifier). */
  opens(token: string, serviceId: string): Promise<boolean>;
  /** The runtime of the current term; null while this process stands by (it runs no replicas then). */
  runtime(): Runtime | null;
}

export interface OperationalProbes {
  metrics: Registry;
  /** The bus can publish and deliver (connected to NATS). */
  busReady(): boolean;
  /** The store answers. */
  storeReady(): Promise<boolean>;
  role(): LeaseRole;
  holder: string;
  /** Absent when the process has no secret to check logs tokens with: the endpoint is then 404 like any path. */
  logs?: LogsEndpoint;
}

/**
 * The provisioner's only HTTP surface: `/healthz` (the process runs), `/readyz` (NATS and store reachable; the
 * role, leader or standby, is reported but both are ready: a standby is exactly what should be running beside the
 * leader) and `/metrics`. No API, no token: it tells nothing about any workspace.
 */
export function createOperationalServer(probes: OperationalProbes): Server {
  return createServer((req, res) => void answer(req, res, probes));
}

async function answer(req: IncomingMessage, res: ServerResponse, probes: OperationalProbes): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const logsPath = probes.logs ? LOGS_PATH.exec(path) : null;
  if (logsPath && probes.logs) return serveLogs(req, res, probes.logs, logsPath[1]!);
  const known = path === '/healthz' || path === '/readyz' || path === '/metrics';
  if (known && req.method !== 'GET' && req.method !== 'HEAD') {
    sendErrorAnswer(res, errors.methodNotAllowed(req.method ?? '', path, ['GET', 'HEAD']), languageOf(req.headers['accept-language']), {
      allow: 'GET, HEAD',
    });
    return;
  }
  switch (path) {
    case '/healthz':
      return sendJson(res, 200, JSON.stringify({ status: 'ok', role: probes.role() }));
    case '/readyz': {
      const nats = probes.busReady();
      const store = await probes.storeReady().catch(() => false);
      const ready = nats && store && probes.role() !== 'stopped';
      return sendJson(
        res,
        ready ? 200 : 503,
        JSON.stringify({ status: ready ? 'ready' : 'not ready', role: probes.role(), holder: probes.holder, checks: { nats, store } }),
      );
    }
    case '/metrics': {
      const text = await probes.metrics.metrics();
      res.writeHead(200, { 'content-type': probes.metrics.contentType });
      res.end(text);
      return;
    }
    default:
      sendErrorAnswer(res, errors.routeNotFound(path.slice(0, 200)), languageOf(req.headers['accept-language']));
  }
}

const LOGS_PATH = /^\/internal\/v1\/services\/(svc-[a-z0-9]{16})\/logs$/;

/**
 * `GET /internal/v1/services/{id}/logs?replica=&tail=&since=` → `{items}` (the gateway validated the user's query;
 * this only refuses what it cannot read). Not the public API: no workspace check here, the token is the grant.
 */
async function serveLogs(req: IncomingMessage, res: ServerResponse, logs: LogsEndpoint, serviceId: string): Promise<void> {
  const lang = languageOf(req.headers['accept-language']);
  if (req.method !== 'GET') return sendErrorAnswer(res, errors.methodNotAllowed(req.method ?? '', 'logs', ['GET']), lang, { allow: 'GET' });
  const auth = req.headers.authorization ?? '';
  const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  if (!token || !(await logs.opens(token, serviceId))) return sendErrorAnswer(res, errors.unauthenticated(), lang);
  const params = new URL(req.url ?? '/', 'http://provisioner').searchParams;
  const query: ReplicaLogQuery = {};
  const replica = params.get('replica');
  const tail = params.get('tail');
  const since = params.get('since');
  if (replica) query.replica = replica.slice(0, 100);
  if (tail) {
    const n = /^\d{1,4}$/.test(tail) ? Number(tail) : NaN;
    if (!(n >= 1 && n <= 5000)) return sendErrorAnswer(res, errors.invalidInput([{ field: 'tail', message: { zh: '无效', en: 'invalid' } }]), lang);
    query.tail = n;
  }
  if (since) {
    const at = since.length <= 40 ? new Date(since) : new Date(NaN);
    if (Number.isNaN(at.getTime())) return sendErrorAnswer(res, errors.invalidInput([{ field: 'since', message: { zh: '无效', en: 'invalid' } }]), lang);
    query.since = at;
  }
  const runtime = logs.runtime();
  const items = runtime ? await runtime.logs(serviceId, query) : [];
  return sendJson(res, 200, JSON.stringify({ items }));
}
