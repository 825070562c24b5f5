import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { hs256Verifier, signToken, type TokenClaims } from '@remotegpu/auth';
import { InProcessBus } from '@remotegpu/bus';
import type { InferenceService, ReplicaEndpoint, ServiceStatus, ServiceStatusEvent } from '@remotegpu/core';
import { openSqliteStore, type SqliteStore } from '@remotegpu/store';
import { serviceFixture } from '@remotegpu/store/contract';
import { createRouter, type Router, type RouterOptions } from '../src/index.js';

export const SECRET = 'router-test-secret-0123456789-abcdefghijkl';

/** A replica played by a plain node:http server on 127.0.0.1, counting what it sees. */
export interface Backend {
  url: string;
  /** Requests received (including ones it never answered). */
  hits: number;
  /** Requests being handled right now, and the most ever at once. */
  active: number;
  maxActive: number;
  endpoint(replicaId?: string): ReplicaEndpoint;
  close(): Promise<void>;
}

export type BackendHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export async function startBackend(handler: BackendHandler): Promise<Backend> {
  const sockets = new Set<import('node:net').Socket>();
  const backend: Backend = {
    url: '',
    hits: 0,
    active: 0,
    maxActive: 0,
    endpoint: (replicaId = `r-${randomUUID().slice(0, 8)}`) => ({ replicaId, url: backend.url }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    backend.hits += 1;
    backend.active += 1;
    backend.maxActive = Math.max(backend.maxActive, backend.active);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      backend.active -= 1;
    };
    res.once('close', finish);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      Promise.resolve(handler(req, res, Buffer.concat(chunks))).catch(() => res.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  backend.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return backend;
}

/** Backends a test starts, all closed by `closeAll` (call it from `afterEach`). */
export function backendPool(): { start: (handler: BackendHandler) => Promise<Backend>; closeAll: () => Promise<void> } {
  let started: Backend[] = [];
  return {
    async start(handler) {
      const b = await startBackend(handler);
      started.push(b);
      return b;
    },
    async closeAll() {
      await Promise.all(started.map((b) => b.close()));
      started = [];
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers what it saw: method, path, headers and body. */
export const echo: BackendHandler = (req, res, body) =>
  sendJson(res, 200, { method: req.method, path: req.url, headers: req.headers, body: body.toString('utf8') });

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An address nobody listens on: a backend started and closed again. */
export async function deadEndpoint(replicaId = 'dead'): Promise<ReplicaEndpoint> {
  const backend = await startBackend(echo);
  await backend.close();
  return { replicaId, url: backend.url };
}

/** A router over a real SQLite store and the in-process bus, served on an ephemeral port. */
export interface Harness {
  url: string;
  router: Router;
  store: SqliteStore;
  bus: InProcessBus;
  metrics: Registry;
  token(claims?: Partial<TokenClaims>): Promise<string>;
  /** A service in the store, `running` with these endpoints unless told otherwise. */
  service(endpoints: ReplicaEndpoint[], options?: { status?: ServiceStatus; workspaceId?: number }): Promise<InferenceService>;
  /** Publishes a status event as the provisioner would. */
  publishStatus(service: InferenceService, overrides?: Partial<ServiceStatusEvent>): Promise<void>;
  request(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  predictUrl(serviceId: string): string;
  gauge(name: string, serviceId: string): Promise<number>;
  close(): Promise<void>;
}

export async function startHarness(
  options: Partial<Omit<RouterOptions, 'store' | 'bus' | 'verifier' | 'logger' | 'metrics'>> = {},
  /** Runs against the store before the router starts (what it must find when it rebuilds its table). */
  seed?: (store: SqliteStore) => Promise<void>,
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'rgpu-router-'));
  const store = openSqliteStore({ path: join(dir, 'rgpu.db') });
  await seed?.(store);
  const logger = pino({ level: 'silent' });
  const bus = new InProcessBus({ logger });
  const metrics = new Registry();
  const router = createRouter({ store, bus, verifier: hs256Verifier(SECRET), logger, metrics, resyncIntervalMs: 0, ...options });
  await router.start();
  const server = createServer((req, res) => router.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const defaultToken = await signToken(SECRET, { sub: 'alice', workspaces: [1], ttlSeconds: 3600 });

  const harness: Harness = {
    url,
    router,
    store,
    bus,
    metrics,
    token: (claims = {}) => signToken(SECRET, { sub: 'alice', workspaces: [1], ttlSeconds: 3600, ...claims }),
    service: (endpoints, serviceOptions) => storeService(store, endpoints, serviceOptions),
    async publishStatus(service, overrides = {}) {
      await bus.publish('service.status', {
        eventId: randomUUID(),
        serviceId: service.id,
        workspaceId: service.workspaceId,
        at: new Date().toISOString(),
        status: service.status,
        previousStatus: null,
        reason: null,
        message: null,
        readyReplicas: service.endpoints.length,
        replicas: service.replicas,
        endpoints: service.endpoints,
        generation: service.generation,
        version: service.version,
        deleted: false,
        ...overrides,
      });
    },
    async request(path, init = {}) {
      const { token = defaultToken, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      return fetch(`${url}${path}`, { ...rest, headers });
    },
    predictUrl: (serviceId) => `/inference/${serviceId}/predict`,
    async gauge(name, serviceId) {
      const metric = metrics.getSingleMetric(name);
      const values = metric ? (await metric.get()).values : [];
      return values.find((v) => v.labels.service === serviceId)?.value ?? 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await router.stop();
      await bus.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** A service in the store, `running` with these endpoints unless told otherwise. */
export async function storeService(
  store: SqliteStore,
  endpoints: ReplicaEndpoint[],
  { status = 'running', workspaceId = 1 }: { status?: ServiceStatus; workspaceId?: number } = {},
): Promise<InferenceService> {
  const { service } = await store.services.create(serviceFixture({ workspaceId, replicas: Math.max(1, endpoints.length) }));
  return store.services.update(service.id, service.version, { endpoints, status, readyReplicas: endpoints.length });
}

/** Polls until `condition` holds (events travel asynchronously even in process). */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(10);
  }
}

export async function postJson(h: Harness, path: string, body: unknown, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  return h.request(path, { method: 'POST', body: JSON.stringify(body), ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
}
