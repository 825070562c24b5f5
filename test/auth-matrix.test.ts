import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expiredToken, signToken, tokenWithoutExpiry, unsignedToken } from '@remotegpu/testkit';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { PlatformClient } from './support/client.js';

/**
 * Every REST route and GraphQL operation against every kind of bad credential, and every id-taking
 * route against a token of another workspace (DESIGN §5): 401 for bad tokens, 404 (never 403) for
 * foreign objects, 403 for creating in a foreign workspace, lists that never show foreign objects.
 */
const OWNER_WS = 11;
const FOREIGN_WS = 22;

let p: TestPlatform;
let owner: string;
let foreign: string;
let serviceId: string;
let endpointUrl: string;
let modelId: number;

beforeAll(async () => {
  p = await startTestPlatform();
  owner = await p.token({ sub: 'owner', workspaces: [OWNER_WS] });
  foreign = await p.token({ sub: 'intruder', workspaces: [FOREIGN_WS] });
  ({ modelId } = await p.registerColorModel(OWNER_WS, owner));
  const res = await fetch(`${p.url}/api/v1/inference/services`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'private', workspace_id: OWNER_WS, model_id: modelId, model_version: 'v1.0' }),
  });
  serviceId = ((await res.json()) as { data: { service_id: string } }).data.service_id;
  // Up before anyone else touches it, so "changes nothing" below means one exact state: running, 1 of 1 ready.
  ({ endpoint_url: endpointUrl } = await new PlatformClient(p.url, owner).waitRunning(serviceId, 1));
});
afterAll(() => p?.stop());

interface Route {
  method: string;
  path: () => string;
  body?: () => unknown;
  /** Takes an id of an existing object: a foreign token must get 404. */
  idRoute: boolean;
}

const ROUTES: Route[] = [
  { method: 'POST', path: () => '/api/v1/inference/services', body: () => ({ name: 'x', workspace_id: OWNER_WS, model_id: modelId, model_version: 'v1.0' }), idRoute: false },
  { method: 'GET', path: () => '/api/v1/inference/services', idRoute: false },
  { method: 'GET', path: () => `/api/v1/inference/services/${serviceId}`, idRoute: true },
  { method: 'PATCH', path: () => `/api/v1/inference/services/${serviceId}`, body: () => ({ replicas: 3 }), idRoute: true },
  { method: 'POST', path: () => `/api/v1/inference/services/${serviceId}/predict`, body: () => ({ inputs: { image: 'aGVsbG8=' } }), idRoute: true },
  { method: 'POST', path: () => `/api/v1/inference/services/${serviceId}/stop`, idRoute: true },
  { method: 'POST', path: () => `/api/v1/inference/services/${serviceId}/start`, idRoute: true },
  { method: 'GET', path: () => `/api/v1/inference/services/${serviceId}/events`, idRoute: true },
  { method: 'DELETE', path: () => `/api/v1/inference/services/${serviceId}`, idRoute: true },
  { method: 'POST', path: () => '/api/v1/models', body: () => ({ name: 'm', workspace_id: OWNER_WS, framework: 'onnx' }), idRoute: false },
  { method: 'GET', path: () => '/api/v1/models', idRoute: false },
  { method: 'GET', path: () => `/api/v1/models/${modelId}`, idRoute: true },
  { method: 'POST', path: () => `/api/v1/models/${modelId}/versions`, body: () => ({ version: 'v9', artifact_uri: 'file:///etc/passwd', labels: ['a'] }), idRoute: true },
  { method: 'DELETE', path: () => `/api/v1/models/${modelId}/versions/v1.0`, idRoute: true },
  { method: 'DELETE', path: () => `/api/v1/models/${modelId}`, idRoute: true },
  { method: 'GET', path: () => `/api/v1/inference/services/${serviceId}/logs`, idRoute: true },
];

async function call(route: Route, authorization?: string) {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  const body = route.body?.();
  if (body) headers['content-type'] = 'application/json';
  const res = await fetch(p.url + route.path(), { method: route.method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as { code: number; message: string; data?: unknown }) : null };
}

const BAD_CREDENTIALS: [string, () => Promise<string | undefined>][] = [
  ['no Authorization header', async () => undefined],
  ['a Basic scheme', async () => 'Basic dXNlcjpwYXNz'],
  ['a malformed bearer', async () => 'Bearer not-a-jwt'],
  ['a wrong signature', async () => `Bearer ${await signToken('another-secret-of-at-least-32-bytes!!', { sub: 'x', workspaces: [OWNER_WS] })}`],
  ['alg: none', async () => `Bearer ${unsignedToken({ sub: 'x', workspaces: [OWNER_WS], admin: true })}`],
  ['an expired token', async () => `Bearer ${await expiredToken(p.secret, { sub: 'x', workspaces: [OWNER_WS] })}`],
  // Correctly signed, valid claims, admin even: only the missing exp is wrong, and that alone must be enough.
  ['a token without exp', async () => `Bearer ${await tokenWithoutExpiry(p.secret, { sub: 'x', workspaces: [OWNER_WS], admin: true })}`],
  ['claims of the wrong type', async () => `Bearer ${await signToken(p.secret, { sub: 'x', workspaces: ['11' as unknown as number] })}`],
];

describe('REST: bad credentials → 401 on every route', () => {
  for (const [what, credential] of BAD_CREDENTIALS) {
    it(`${what}`, async () => {
      const auth = await credential();
      for (const route of ROUTES) {
        const res = await call(route, auth);
        expect(res.status, `${route.method} ${route.path()}`).toBe(401);
        expect(res.body?.code).toBe(40100);
        expect(res.body?.message).toBeTruthy();
      }
    });
  }

  it('leaves /healthz, /readyz and /metrics open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(p.url + path)).status, path).toBe(200);
  });
});

describe('data plane (endpoint_url): bad credentials → 401', () => {
  for (const [what, credential] of BAD_CREDENTIALS) {
    it(`${what}`, async () => {
      const auth = await credential();
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(auth !== undefined && { authorization: auth }) };
      for (const [path, body] of [['/predict', { inputs: { image: 'aGVsbG8=' } }], [`/v2/models/${serviceId}/infer`, { inputs: [] }]] as const) {
        const res = await fetch(endpointUrl + path, { method: 'POST', headers, body: JSON.stringify(body) });
        expect(res.status, path).toBe(401);
        expect(((await res.json()) as { code: number }).code).toBe(40100);
      }
    });
  }
});

describe('REST: another workspace', () => {
  it('gets 404 on every id-taking route, and changes nothing', async () => {
    for (const route of ROUTES.filter((r) => r.idRoute)) {
      const res = await call(route, `Bearer ${foreign}`);
      expect(res.status, `${route.method} ${route.path()}`).toBe(404);
      expect(res.body?.code).toBe(40400);
    }
    const still = await call(ROUTES[2], `Bearer ${owner}`);
    expect(still.status).toBe(200);
    expect(still.body?.data).toMatchObject({ service_id: serviceId, replicas: 1, status: 'running', ready_replicas: 1, status_reason: null });
  });

  it('gets 403 when creating in a workspace it does not hold', async () => {
    for (const route of [ROUTES[0], ROUTES[9]]) {
      const res = await call(route, `Bearer ${foreign}`);
      expect(res.status).toBe(403);
      expect(res.body?.code).toBe(40300);
    }
  });

  it('never sees foreign services or models in lists, even when filtering by their workspace', async () => {
    for (const path of ['/api/v1/inference/services', `/api/v1/inference/services?workspace_id=${OWNER_WS}`, '/api/v1/models', `/api/v1/models?workspace_id=${OWNER_WS}`]) {
      const res = await call({ method: 'GET', path: () => path, idRoute: false }, `Bearer ${foreign}`);
      expect(res.status).toBe(200);
      expect(res.body?.data).toMatchObject({ items: [], pagination: { total: 0 } });
    }
    const mine = await call({ method: 'GET', path: () => '/api/v1/inference/services', idRoute: false }, `Bearer ${owner}`);
    expect((mine.body?.data as { items: { service_id: string }[] }).items.map((s) => s.service_id)).toContain(serviceId);
  });

  it('cannot use a model of another workspace for its own service (422, not a leak)', async () => {
    const res = await call(
      { method: 'POST', path: () => '/api/v1/inference/services', body: () => ({ name: 'borrow', workspace_id: FOREIGN_WS, model_id: modelId, model_version: 'v1.0' }), idRoute: false },
      `Bearer ${foreign}`,
    );
    expect(res.status).toBe(422);
  });

  it('an admin token sees every workspace', async () => {
    const admin = await p.token({ sub: 'root', admin: true });
    const res = await call(ROUTES[2], `Bearer ${admin}`);
    expect(res.status).toBe(200);
  });
});

// GraphQL: the same matrix over every operation.
const OPERATIONS: { name: string; query: () => string; kind: 'query' | 'mutation'; idOp: boolean }[] = [
  { name: 'inferenceService', kind: 'query', idOp: true, query: () => `{ inferenceService(id: "${serviceId}") { id name } }` },
  { name: 'inferenceServices', kind: 'query', idOp: false, query: () => `{ inferenceServices { items { id } pagination { total } } }` },
  { name: 'model', kind: 'query', idOp: true, query: () => `{ model(id: ${modelId}) { id name } }` },
  { name: 'models', kind: 'query', idOp: false, query: () => `{ models { items { id } pagination { total } } }` },
  { name: 'createInferenceService', kind: 'mutation', idOp: false, query: () => `mutation { createInferenceService(input: { name: "g", workspaceId: ${OWNER_WS}, modelId: ${modelId}, modelVersion: "v1.0" }) { id } }` },
  { name: 'updateInferenceService', kind: 'mutation', idOp: true, query: () => `mutation { updateInferenceService(id: "${serviceId}", input: { replicas: 4 }) { id } }` },
  { name: 'stopInferenceService', kind: 'mutation', idOp: true, query: () => `mutation { stopInferenceService(id: "${serviceId}") { id } }` },
  { name: 'startInferenceService', kind: 'mutation', idOp: true, query: () => `mutation { startInferenceService(id: "${serviceId}") { id } }` },
  { name: 'deleteInferenceService', kind: 'mutation', idOp: true, query: () => `mutation { deleteInferenceService(id: "${serviceId}") }` },
  { name: 'predict', kind: 'mutation', idOp: true, query: () => `mutation { predict(serviceId: "${serviceId}", inputs: { image: "aGVsbG8=" }) { predictions { class confidence } } }` },
  { name: 'createModel', kind: 'mutation', idOp: false, query: () => `mutation { createModel(input: { name: "gm", workspaceId: ${OWNER_WS}, framework: "onnx" }) { id } }` },
  { name: 'deleteModelVersion', kind: 'mutation', idOp: true, query: () => `mutation { deleteModelVersion(modelId: ${modelId}, version: "v1.0") }` },
  { name: 'deleteModel', kind: 'mutation', idOp: true, query: () => `mutation { deleteModel(id: ${modelId}) }` },
  { name: 'inferenceServiceLogs', kind: 'query', idOp: true, query: () => `{ inferenceServiceLogs(id: "${serviceId}") { replica line } }` },
];

async function gql(query: string, authorization?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization) headers.authorization = authorization;
  const res = await fetch(`${p.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }) });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions: { code: number } }[] } };
}

describe('GraphQL: bad credentials → 40100 on every operation', () => {
  for (const [what, credential] of BAD_CREDENTIALS) {
    it(`${what}`, async () => {
      const auth = await credential();
      for (const op of OPERATIONS) {
        const res = await gql(op.query(), auth);
        expect(res.body.errors?.[0]?.extensions.code, `${op.name}: ${JSON.stringify(res.body)}`).toBe(40100);
        expect(res.body.data ?? null).toBeNull();
      }
    });
  }
});

describe('GraphQL: another workspace', () => {
  it('sees null for foreign objects and 40400 for mutations on them', async () => {
    for (const op of OPERATIONS.filter((o) => o.idOp)) {
      const res = await gql(op.query(), `Bearer ${foreign}`);
      if (op.kind === 'query') {
        expect(res.body.errors, op.name).toBeUndefined();
        expect(res.body.data?.[op.name], op.name).toBeNull();
      } else {
        expect(res.body.errors?.[0]?.extensions.code, `${op.name}: ${JSON.stringify(res.body)}`).toBe(40400);
      }
    }
    const still = await gql(`{ inferenceService(id: "${serviceId}") { id replicas readyReplicas status } }`, `Bearer ${owner}`);
    expect(still.body.data?.inferenceService).toEqual({ id: serviceId, replicas: 1, readyReplicas: 1, status: 'RUNNING' });
  });

  it('gets 40300 creating in a foreign workspace and empty lists', async () => {
    for (const op of OPERATIONS.filter((o) => o.name.startsWith('create'))) {
      const res = await gql(op.query(), `Bearer ${foreign}`);
      expect(res.body.errors?.[0]?.extensions.code, op.name).toBe(40300);
    }
    const lists = await gql(`{ inferenceServices(workspaceId: ${OWNER_WS}) { items { id } pagination { total } } models { items { id } } }`, `Bearer ${foreign}`);
    expect(lists.body.data).toEqual({ inferenceServices: { items: [], pagination: { total: 0 } }, models: { items: [] } });
  });
});
