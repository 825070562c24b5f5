import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { KubeApi } from './kube-api.js';
import { apiGroup, apiGroupList, apiResourceList, coreVersions, SERVER_VERSION } from './kube-discovery.js';
import { selectorMatcher } from './kube-fields.js';
import { openApiV2, openApiV3Document, openApiV3Index } from './kube-openapi.js';
import { applyPatch, patchTypeOf } from './kube-patch.js';
import { apiVersionOf, findResource, type ResourceType } from './kube-resources.js';
import { badRequest, injected, KubeApiError, methodNotAllowed, pathNotFound, unauthorized } from './kube-status.js';
import { scaleOf } from './kube-scale.js';
import { toTable, wantsTable } from './kube-table.js';
import { serveWatch, type WatchSettings } from './kube-watch.js';
import { isRecord, type KubeObject } from './kube.types.js';

/**
 * The HTTP face of the fake: discovery, OpenAPI, and the REST paths of the served resources with their verbs
 * (get, list, watch, create, update, patch, delete, deletecollection) and subresources (status, scale, log,
 * binding). Bearer-token auth, a request log for tests and benchmarks, and failure injection.
 */

export interface InjectedFailure {
  /** HTTP method to fail (any when unset). */
  method?: string;
  /** Substring or pattern the request path (without query) must match. */
  path?: string | RegExp;
  /** The status code to answer (500, 503, 429, 409...). */
  code: number;
  message?: string;
  /** How many matching requests fail (default: every one until cleared). */
  times?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  verb: string;
  resource?: string;
  code: number;
}

export interface KubeHttpOptions extends WatchSettings {
  token?: string;
  requireToken: boolean;
  maxBodyBytes: number;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export class KubeHttpServer {
  readonly server: Server;
  readonly requests: RequestRecord[] = [];
  private readonly failures: InjectedFailure[] = [];
  private readonly openWatches = new Set<() => void>();

  constructor(
    private readonly api: KubeApi,
    private readonly options: KubeHttpOptions,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    // Timeouts on every server: a slow client cannot hold a request open; watches are long responses, not requests.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.keepAliveTimeout = 5_000;
  }

  injectFailure(failure: InjectedFailure): () => void {
    this.failures.push({ ...failure });
    return () => {
      const i = this.failures.indexOf(failure);
      if (i >= 0) this.failures.splice(i, 1);
    };
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  /** Writes (create/update/patch/delete) recorded since `from` (an index into `requests`). */
  writesSince(from = 0): RequestRecord[] {
    return this.requests.slice(from).filter((r) => WRITE_VERBS.has(r.verb));
  }

  /** Ends every open watch stream (as an API server restart does); clients re-watch from their last version. */
  closeWatches(): void {
    for (const close of [...this.openWatches]) close();
  }

  private record(req: IncomingMessage, path: string, verb: string, code: number, resource?: string): void {
    this.requests.push({ method: req.method ?? 'GET', path, verb, resource, code });
    if (this.requests.length > 100_000) this.requests.splice(0, 50_000);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    try {
      this.authenticate(req, path);
      this.failInjected(req.method ?? 'GET', path);
      if (await this.serveStatic(req, res, path)) return;
      await this.serveResource(req, res, path, url.searchParams);
    } catch (error) {
      const status = error instanceof KubeApiError ? error.status : injected(500, error instanceof Error ? error.message : String(error)).status;
      this.record(req, path, 'error', status.code);
      if (!res.headersSent) sendJson(res, status.code, status);
      else res.end();
    }
  }

  /**
   * A wrong token is 401. A request without one is anonymous and allowed unless `requireToken`: kubectl (client-go)
   * never sends credentials to a plain-http server (kubernetes/kubectl#744), so a fake on http:// must accept it
   * the way a cluster with anonymous auth and an allow-all authorizer would.
   */
  private authenticate(req: IncomingMessage, path: string): void {
    const expected = this.options.token;
    if (!expected || /^\/(healthz|readyz|livez|version)$/.test(path)) return;
    const sent = req.headers.authorization;
    if (sent === undefined ? this.options.requireToken : sent !== `Bearer ${expected}`) throw unauthorized();
  }

  private failInjected(method: string, path: string): void {
    const index = this.failures.findIndex((f) => (!f.method || f.method.toUpperCase() === method) && (!f.path || (typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))));
    if (index < 0) return;
    const failure = this.failures[index];
    if (failure.times !== undefined && --failure.times <= 0) this.failures.splice(index, 1);
    throw injected(failure.code, failure.message ?? 'injected failure');
  }

  private async serveStatic(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const host = `${req.socket.localAddress}:${req.socket.localPort}`;
    let body: unknown;
    if (path === '/version') body = SERVER_VERSION;
    else if (path === '/api') body = coreVersions(host);
    else if (path === '/apis') body = apiGroupList();
    else if (path === '/api/v1') body = apiResourceList('', 'v1');
    else if (/^\/apis\/[^/]+$/.test(path)) body = apiGroup(path.split('/')[2]);
    else if (/^\/apis\/[^/]+\/[^/]+$/.test(path)) body = apiResourceList(path.split('/')[2], path.split('/')[3]);
    else if (path === '/openapi/v2') body = openApiV2();
    else if (path === '/openapi/v3') body = openApiV3Index();
    else if (path.startsWith('/openapi/v3/')) body = openApiV3Document(path.slice('/openapi/v3/'.length));
    else if (/^\/(healthz|readyz|livez)$/.test(path)) {
      this.record(req, path, 'health', 200);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok');
      return true;
    } else return false;
    if (body === undefined) throw pathNotFound();
    if (req.method !== 'GET') throw methodNotAllowed();
    this.record(req, path, 'discovery', 200);
    sendJson(res, 200, body);
    return true;
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const route = parseResourcePath(path);
    if (!route) throw pathNotFound();
    const { type, namespace, name, subresource } = route;
    const method = req.method ?? 'GET';
    const dryRun = query.getAll('dryRun').includes('All');
    const label = type.group ? `${type.plural}.${type.group}` : type.plural;
    const done = (verb: string, code: number, body: unknown) => {
      this.record(req, path, verb, code, label);
      sendJson(res, code, body);
    };

    if (!name) {
      switch (method) {
        case 'GET': {
          const matches = selectorMatcher(type, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
          if (isTrue(query.get('watch'))) {
            this.record(req, path, 'watch', 200, label);
            serveWatch(this.api.store, req, res, {
              type, namespace, matches,
              resourceVersion: query.get('resourceVersion') ?? undefined,
              timeoutSeconds: Number(query.get('timeoutSeconds') ?? 0) || undefined,
              allowWatchBookmarks: isTrue(query.get('allowWatchBookmarks')),
              sendInitialEvents: isTrue(query.get('sendInitialEvents')),
              render: tableRenderer(type, req, query),
            }, this.options, (close) => {
              this.openWatches.add(close);
              return () => this.openWatches.delete(close);
            });
            return;
          }
          const list = this.api.list(type, namespace, {
            labelSelector: query.get('labelSelector') ?? undefined,
            fieldSelector: query.get('fieldSelector') ?? undefined,
            limit: Number(query.get('limit') ?? 0) || undefined,
            continue: query.get('continue') ?? undefined,
          });
          if (wantsTable(req.headers.accept)) return done('list', 200, toTable(type, list.items, list.resourceVersion, query.get('includeObject'), list.continue));
          return done('list', 200, listBody(type, list));
        }
        case 'POST': {
          if (type.kind === 'Namespace' || !type.namespaced || namespace) {
            const created = this.api.create(type, namespace, await readJson(req, this.options.maxBodyBytes), { dryRun });
            return done('create', 201, created);
          }
          throw methodNotAllowed();
        }
        case 'DELETE': {
          const options = deleteOptions(await readJson(req, this.options.maxBodyBytes, true), query, dryRun);
          const deleted = this.api.deleteCollection(type, namespace, {
            ...options,
            labelSelector: query.get('labelSelector') ?? undefined,
            fieldSelector: query.get('fieldSelector') ?? undefined,
          });
          return done('deletecollection', 200, listBody(type, { items: deleted, resourceVersion: String(this.api.store.resourceVersion) }));
        }
        default:
          throw methodNotAllowed();
      }
    }

    if (subresource === 'scale') return this.serveScale(req, type, namespace, name, dryRun, done);
    if (subresource === 'log') {
      this.api.get(type, namespace, name);
      this.record(req, path, 'get', 200, label);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('');
      return;
    }
    if (subresource === 'binding') {
      if (method !== 'POST') throw methodNotAllowed();
      const binding = await readJson(req, this.options.maxBodyBytes);
      const target = isRecord(binding) && isRecord(binding.target) ? String(binding.target.name ?? '') : '';
      if (!target) throw badRequest('binding target is required');
      const pod = this.api.get(type, namespace, name);
      if ((pod.spec as { nodeName?: string }).nodeName) throw badRequest(`pod ${name} is already assigned to node "${(pod.spec as { nodeName?: string }).nodeName}"`);
      this.api.store.update(type, { ...pod, spec: { ...(pod.spec as object), nodeName: target } });
      return done('create', 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (subresource && subresource !== 'status') throw pathNotFound();
    const sub = subresource === 'status' ? 'status' : undefined;

    switch (method) {
      case 'GET':
        if (isTrue(query.get('watch'))) {
          // A watch on one object is a collection watch limited to its name (the real server does the same).
          const matches = (o: KubeObject) => o.metadata.name === name;
          this.record(req, path, 'watch', 200, label);
          serveWatch(this.api.store, req, res, { type, namespace, matches, resourceVersion: query.get('resourceVersion') ?? undefined, timeoutSeconds: Number(query.get('timeoutSeconds') ?? 0) || undefined, allowWatchBookmarks: isTrue(query.get('allowWatchBookmarks')), sendInitialEvents: false, render: tableRenderer(type, req, query) }, this.options, (close) => {
            this.openWatches.add(close);
            return () => this.openWatches.delete(close);
          });
          return;
        }
        if (wantsTable(req.headers.accept) && !sub) {
          const object = this.api.get(type, namespace, name);
          return done('get', 200, toTable(type, [object], object.metadata.resourceVersion ?? '', query.get('includeObject')));
        }
        return done('get', 200, this.api.get(type, namespace, name));
      case 'PUT':
        return done('update', 200, this.api.update(type, namespace, name, await readJson(req, this.options.maxBodyBytes), { subresource: sub, dryRun }));
      case 'PATCH': {
        const patchType = patchTypeOf(req.headers['content-type']);
        return done('patch', 200, this.api.patch(type, namespace, name, patchType, await readJson(req, this.options.maxBodyBytes), { subresource: sub, dryRun }));
      }
      case 'DELETE': {
        if (sub) throw methodNotAllowed();
        const options = deleteOptions(await readJson(req, this.options.maxBodyBytes, true), query, dryRun);
        const result = this.api.delete(type, namespace, name, options);
        return done('delete', result.accepted ? 202 : 200, result.object ?? result.status);
      }
      default:
        throw methodNotAllowed();
    }
  }

  private async serveScale(req: IncomingMessage, type: ResourceType, namespace: string | undefined, name: string, dryRun: boolean, done: (verb: string, code: number, body: unknown) => void): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'GET') return done('get', 200, scaleOf(this.api.get(type, namespace, name)));
    if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
    const body = await readJson(req, this.options.maxBodyBytes);
    const current = this.api.get(type, namespace, name);
    const scale = method === 'PUT' ? body : applyPatch(patchTypeOf(req.headers['content-type']), scaleOf(current), body);
    const replicas = isRecord(scale) && isRecord(scale.spec) ? scale.spec.replicas : undefined;
    if (typeof replicas !== 'number') throw badRequest('spec.replicas is required');
    const rv = isRecord(scale) && isRecord(scale.metadata) ? scale.metadata.resourceVersion : undefined;
    const updated = this.api.update(type, namespace, name, { ...current, metadata: { ...current.metadata, resourceVersion: typeof rv === 'string' ? rv : undefined }, spec: { ...(current.spec as object), replicas } }, { dryRun });
    return done(method === 'PUT' ? 'update' : 'patch', 200, scaleOf(updated));
  }

  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  async close(): Promise<void> {
    this.closeWatches();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

interface ResourceRoute {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** `/api/v1/namespaces/ns/pods/x/status`, `/apis/apps/v1/deployments`, `/api/v1/namespaces/ns`. */
export function parseResourcePath(path: string): ResourceRoute | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    [group, version, rest] = ['', parts[1], parts.slice(2)];
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
  } else return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const type = findResource(group, version, rest[2]);
    if (!type || !type.namespaced) return undefined;
    return { type, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }
  const type = findResource(group, version, rest[0]);
  if (!type || rest.length > 3) return undefined;
  if (type.namespaced && rest.length > 1) return undefined;
  return { type, name: rest[1], subresource: rest[2] };
}

function listBody(type: ResourceType, list: { items: KubeObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number }): object {
  const metadata: Record<string, unknown> = { resourceVersion: list.resourceVersion };
  if (list.continue) metadata.continue = list.continue;
  if (list.remainingItemCount !== undefined) metadata.remainingItemCount = list.remainingItemCount;
  // Items of a typed list carry no kind/apiVersion on the wire, as the real server sends them.
  const items = list.items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest);
  return { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items };
}

function deleteOptions(body: unknown, query: URLSearchParams, dryRun: boolean): { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; preconditions?: { uid?: string; resourceVersion?: string }; gracePeriodSeconds?: number; dryRun: boolean } {
  const b = isRecord(body) ? body : {};
  const policy = (b.propagationPolicy ?? query.get('propagationPolicy') ?? (b.orphanDependents === true ? 'Orphan' : undefined)) as string | undefined;
  if (policy !== undefined && policy !== 'Background' && policy !== 'Foreground' && policy !== 'Orphan') {
    throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  const grace = b.gracePeriodSeconds ?? query.get('gracePeriodSeconds') ?? undefined;
  return {
    propagationPolicy: policy,
    preconditions: isRecord(b.preconditions) ? (b.preconditions as { uid?: string; resourceVersion?: string }) : undefined,
    gracePeriodSeconds: grace === undefined ? undefined : Number(grace),
    dryRun: dryRun || (Array.isArray(b.dryRun) && b.dryRun.includes('All')),
  };
}

/** `kubectl get -w` watches with the Table Accept header: each event's object is then a one-row Table. */
function tableRenderer(type: ResourceType, req: IncomingMessage, query: URLSearchParams): ((object: KubeObject) => unknown) | undefined {
  if (!wantsTable(req.headers.accept)) return undefined;
  return (object) => toTable(type, [object], object.metadata.resourceVersion ?? '', query.get('includeObject'));
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' });
  res.end(text);
}

async function readJson(req: IncomingMessage, limit: number, optional = false): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  // Protobuf and CBOR bodies are refused with 415 (client-go then falls back to JSON, as with a server built
  // without those serializers); every other body is JSON.
  if (type === 'application/vnd.kubernetes.protobuf' || type === 'application/cbor') {
    throw new KubeApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got ${type})`, reason: 'UnsupportedMediaType', code: 415 });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new KubeApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Request entity too large: limit is 3145728', reason: 'RequestEntityTooLarge', code: 413 });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) {
    if (optional) return undefined;
    throw badRequest('the body of the request was empty');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

