import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { errors, languageOf } from '@remotegpu/core';
import { sendErrorAnswer, sendJson } from '@remotegpu/http';
import type { LeaseRole } from './leader/leader-lease.port.js';

export interface OperationalProbes {
  metrics: Registry;
  /** The bus can publish and deliver (connected to NATS). */
  busReady(): boolean;
  /** The store answers. */
  storeReady(): Promise<boolean>;
  role(): LeaseRole;
  holder: string;
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
