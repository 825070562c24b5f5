import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../../../test/support/platform.js';
import { ISO_UTC, SERVICE_ID, restClient, type Api } from './rest-client.js';

/**
 * seed-api.md, route by route, over real HTTP against the real standalone composition (SQLite, REST).
 * Every field of every example response is checked; values are those the seed's example request sends,
 * except model_id, which must name a model that exists (a registered colour classifier).
 */

const WORKSPACE = 456;

interface Created {
  service_id: string;
  name: string;
  status: string;
  created_at: string;
}

let platform: TestPlatform;
let api: Api;
let token: string;
let modelId: number;
let seedBody: Record<string, unknown>;
let publicUrl: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  api = restClient(platform.url);
  token = await platform.token({ sub: 'alice', workspaces: [WORKSPACE] });
  ({ modelId } = await platform.registerColorModel(WORKSPACE, token, { name: 'resnet-seed' }));
  publicUrl = `http://localhost:${new URL(platform.url).port}`;
  seedBody = {
    name: 'ResNet Inference',
    description: '图像分类推理服务',
    workspace_id: WORKSPACE,
    model_id: modelId,
    model_version: 'v1.0',
    framework: 'pytorch',
    cpu: 4,
    memory: 17179869184,
    gpu: 1,
    replicas: 2,
  };
});

afterAll(async () => {
  await platform?.stop();
});

async function create(overrides: Record<string, unknown> = {}): Promise<Created> {
  const res = await api<Created>('POST', '/api/v1/inference/services', { token, body: { ...seedBody, ...overrides } });
  expect(res.status, res.text).toBe(201);
  return res.body.data!;
}

describe('seed §1 POST /api/v1/inference/services', () => {
  it('answers 201 with {service_id, name, status: creating, created_at} and the seed message', async () => {
    const before = Date.now();
    const res = await api<Created>('POST', '/api/v1/inference/services', { token, body: seedBody });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'data', 'message']);
    expect(res.body.code).toBe(0);
    expect(res.body.message).toBe('推理服务创建成功');
    const data = res.body.data!;
    expect(Object.keys(data).sort()).toEqual(['created_at', 'name', 'service_id', 'status']);
    expect(data.service_id).toMatch(SERVICE_ID);
    expect(data.name).toBe('ResNet Inference');
    expect(data.status).toBe('creating');
    expect(data.created_at).toMatch(ISO_UTC);
    const at = Date.parse(data.created_at);
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('speaks English on Accept-Language: en', async () => {
    const res = await api('POST', '/api/v1/inference/services', {
      token,
      body: { ...seedBody, name: 'ResNet English' },
      headers: { 'accept-language': 'en-US,en;q=0.9' },
    });
    expect(res.status).toBe(201);
    expect(res.body.message).toBe('Inference service created');
  });
});

describe('seed §2 GET /api/v1/inference/services', () => {
  it('lists with the seed item fields and pagination {page: 1, page_size: 20, total, total_pages}', async () => {
    const third = await create({ name: 'ResNet Third', replicas: 3 });
    const res = await api<{ items: Record<string, unknown>[]; pagination: Record<string, number> }>('GET', '/api/v1/inference/services', { token });
    expect(res.status).toBe(200);
    expect(res.body.code).toBe(0);
    expect(res.body.message).toBe('success');
    const { items, pagination } = res.body.data!;
    // Three services now exist in the workspace, as in the seed's example.
    expect(pagination).toEqual({ page: 1, page_size: 20, total: 3, total_pages: 1 });
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['created_at', 'endpoint_url', 'name', 'replicas', 'service_id', 'status']);
      expect(item.service_id).toMatch(SERVICE_ID);
      expect(item.endpoint_url).toBe(`${publicUrl}/inference/${item.service_id as string}`);
      expect(item.created_at).toMatch(ISO_UTC);
      expect(item.status).toBe('creating');
    }
    // Newest first.
    expect(items[0]).toEqual({
      service_id: third.service_id,
      name: 'ResNet Third',
      status: 'creating',
      endpoint_url: `${publicUrl}/inference/${third.service_id}`,
      replicas: 3,
      created_at: third.created_at,
    });
  });

  it('pages: page_size=2 gives total_pages 2, page 2 holds the rest', async () => {
    const res = await api<{ items: unknown[]; pagination: Record<string, number> }>('GET', '/api/v1/inference/services?page=2&page_size=2', { token });
    expect(res.status).toBe(200);
    expect(res.body.data!.pagination).toEqual({ page: 2, page_size: 2, total: 3, total_pages: 2 });
    expect(res.body.data!.items).toHaveLength(1);
  });

  it('shows nothing of a workspace the token may not act in (total_pages 0 when empty)', async () => {
    const outsider = await platform.token({ sub: 'mallory', workspaces: [999] });
    const res = await api<{ items: unknown[]; pagination: Record<string, number> }>('GET', '/api/v1/inference/services', { token: outsider });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ items: [], pagination: { page: 1, page_size: 20, total: 0, total_pages: 0 } });
    // Naming the workspace in the filter does not widen what the token may see.
    const named = await api<{ pagination: Record<string, number> }>('GET', `/api/v1/inference/services?workspace_id=${WORKSPACE}`, { token: outsider });
    expect(named.status).toBe(200);
    expect(named.body.data!.pagination.total).toBe(0);
  });
});

describe('seed §3 GET /api/v1/inference/services/{service_id}', () => {
  it('returns every seed field with the values sent, plus the documented additions', async () => {
    const created = await create({ name: 'ResNet Detail' });
    const res = await api<Record<string, unknown>>('GET', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.code).toBe(0);
    expect(res.body.message).toBe('success');
    const data = res.body.data!;
    expect(Object.keys(data).sort()).toEqual(
      [
        'service_id', 'name', 'description', 'status', 'model_id', 'model_version', 'framework', 'endpoint_url',
        'cpu', 'memory', 'gpu', 'replicas', 'created_at',
        'workspace_id', 'ready_replicas', 'status_reason', 'status_message', 'updated_at',
      ].sort(),
    );
    expect(data).toMatchObject({
      service_id: created.service_id,
      name: 'ResNet Detail',
      description: '图像分类推理服务',
      status: 'creating',
      model_id: modelId,
      model_version: 'v1.0',
      framework: 'pytorch',
      endpoint_url: `${publicUrl}/inference/${created.service_id}`,
      cpu: 4,
      memory: 17179869184,
      gpu: 1,
      replicas: 2,
      created_at: created.created_at,
      workspace_id: WORKSPACE,
      ready_replicas: 0,
      status_reason: null,
      status_message: null,
    });
    expect(data.updated_at).toMatch(ISO_UTC);
  });

  it('is 404 for a service of another workspace, and for an id that cannot exist', async () => {
    const created = await create({ name: 'ResNet Hidden' });
    const outsider = await platform.token({ sub: 'mallory', workspaces: [999] });
    const hidden = await api('GET', `/api/v1/inference/services/${created.service_id}`, { token: outsider });
    expect(hidden.status).toBe(404);
    expect(hidden.body.code).toBe(40400);
    const junk = await api('GET', '/api/v1/inference/services/not-a-service', { token });
    expect(junk.status).toBe(404);
    expect(junk.body.code).toBe(40400);
  });
});

describe('seed §4 POST /api/v1/inference/services/{service_id}/predict', () => {
  it('answers 503 (50300) with Retry-After while no replica is ready (the router is the next issue)', async () => {
    const created = await create({ name: 'ResNet Predict' });
    const res = await api('POST', `/api/v1/inference/services/${created.service_id}/predict`, {
      token,
      body: { inputs: { image: Buffer.from('not really a png').toString('base64') } },
    });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe(50300);
    expect(res.body.message).toMatch(/副本/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('seed §5 POST /api/v1/inference/services/{service_id}/stop', () => {
  it('answers 200 {code: 0, message: 推理服务停止中} with no data, idempotently, in English on request', async () => {
    const created = await create({ name: 'ResNet Stop' });
    const res = await api('POST', `/api/v1/inference/services/${created.service_id}/stop`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: 0, message: '推理服务停止中' });

    const again = await api('POST', `/api/v1/inference/services/${created.service_id}/stop`, {
      token,
      headers: { 'accept-language': 'en' },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ code: 0, message: 'Inference service is stopping' });

    const detail = await api<{ status: string }>('GET', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(['stopping', 'stopped']).toContain(detail.body.data!.status);
  });

  it('makes predict a 409 on a stopped service', async () => {
    const created = await create({ name: 'ResNet Stopped Predict' });
    await api('POST', `/api/v1/inference/services/${created.service_id}/stop`, { token });
    const res = await api('POST', `/api/v1/inference/services/${created.service_id}/predict`, {
      token,
      body: { inputs: { image: 'aGVsbG8=' } },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe(40900);
  });
});

describe('seed §6 DELETE /api/v1/inference/services/{service_id}', () => {
  it('answers 204 with no body at all, after which the service is gone (404)', async () => {
    const created = await create({ name: 'ResNet Delete' });
    const res = await api('DELETE', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('content-length') ?? '0').toBe('0');

    const gone = await api('GET', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe(40400);
    expect(gone.body.message).toContain(created.service_id);

    const again = await api('DELETE', `/api/v1/inference/services/${created.service_id}`, { token });
    expect(again.status).toBe(404);
  });
});

describe('authentication on every /api/v1 route', () => {
  it.each([
    ['GET', '/api/v1/inference/services'],
    ['POST', '/api/v1/inference/services'],
    ['GET', '/api/v1/inference/services/svc-0123456789abcdef'],
    ['POST', '/api/v1/inference/services/svc-0123456789abcdef/stop'],
    ['DELETE', '/api/v1/inference/services/svc-0123456789abcdef'],
    ['GET', '/api/v1/models'],
    ['GET', '/api/v1/no-such-route'],
  ])('%s %s without a token → 401 envelope', async (method, path) => {
    const res = await api(method, path);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe(40100);
    expect(res.body.message).toBeTruthy();
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses a token signed with another secret', async () => {
    const forged = await platform.token({ sub: 'alice', workspaces: [WORKSPACE] });
    const [h, p] = forged.split('.');
    const res = await api('GET', '/api/v1/inference/services', { token: `${h}.${p}.AAAA` });
    expect(res.status).toBe(401);
  });
});
